"""``reap`` (Lingo et al. 2024): the authors' REAP prompt, one call, one checkpoint."""

from __future__ import annotations

import hashlib
import json

from typer.testing import CliRunner

from reflectlab.cli import app
from reflectlab.model import capture_calls
from reflectlab.strategy import get_strategy, run_strategy
from reflectlab.strategy import reap as reap_module
from support.numbers import make_ctx

TASK = "What is 2+3?\nEnd with 'Answer: <number>'."


async def test_one_call_with_the_problem_in_the_reap_prompts_problem_section() -> None:
    ctx = make_ctx(["REAP Results: ... Recommendation: Answer: 5"])
    with capture_calls() as calls:
        result = await run_strategy(get_strategy("reap"), ctx)
    assert [(c.role, c.round) for c in calls] == [("draft", 0)]
    assert len(calls[0].messages) == 1 and calls[0].messages[0].role == "user"
    prompt = calls[0].messages[0].content
    assert prompt.startswith("# REAP: Problem Solving Method\nYou are an AI assistant")
    steps = ["**0. Literal Interpretation Rule:**", "**4. Key Insight Check:**"]
    steps += ["**6. Problem Decomposition:**", "**10. Ethical Check", "**13. Reflection:**"]
    assert [prompt.index(s) for s in steps] == sorted(prompt.index(s) for s in steps)
    # The task's prompt (with its answer format) sits between the two <Problem> markers.
    assert prompt.endswith(f"---\n<Problem>\n{TASK}\n<Problem>")
    assert [c.round for c in result.checkpoints] == [0]
    assert result.feedback_kinds == []
    assert result.final_response == "REAP Results: ... Recommendation: Answer: 5"


def test_the_template_is_the_authors_file_as_rendered() -> None:
    """Pinned: the text of REAP_Prompt.md (ryanlingo/REAP-LLM-Problem-Solving@c68a84e) with one
    level of markdown escapes removed; an edit to the template must be deliberate."""
    text = reap_module.REAP_PROMPT
    assert "\\" not in text and "  \n" not in text
    digest = hashlib.sha256(text.encode()).hexdigest()
    assert digest == "a1d6d3c1b8e563fc6856324a5b88272516642cec2e3237af5603c6d65e616262"


def test_strategies_show_prints_the_default_template() -> None:
    runner = CliRunner()
    shown = json.loads(runner.invoke(app, ["strategies", "show", "reap", "--json"]).stdout)
    assert shown["prompt_templates"] == {"REAP_PROMPT": reap_module.REAP_PROMPT}
    assert shown["overridable_prompts"] == ["REAP_PROMPT"]
    plain = runner.invoke(app, ["strategies", "show", "reap"], terminal_width=200).stdout
    assert "REAP_PROMPT  (overridable)" in plain
    assert "**0. Literal Interpretation Rule:**" in plain
