"""``reap`` (Lingo et al. 2024): one structured prompt, one call, one checkpoint."""

from __future__ import annotations

from reflectlab.model import capture_calls
from reflectlab.strategy import get_strategy, run_strategy
from support.numbers import make_ctx


async def test_one_call_with_the_reap_template_before_the_task() -> None:
    ctx = make_ctx(["1. Reflection ... 4. Final answer. Answer: 5"])
    with capture_calls() as calls:
        result = await run_strategy(get_strategy("reap"), ctx)
    assert [(c.role, c.round) for c in calls] == [("draft", 0)]
    prompt = calls[0].messages[0].content
    assert prompt.index("Literal interpretation") < prompt.index("Explicit problem deconstruction")
    assert prompt.index("Advanced prompting") < prompt.index("Problem:\nWhat is 2+3?")
    assert prompt.endswith("End with 'Answer: <number>'.")  # the task's format stays last
    assert [c.round for c in result.checkpoints] == [0]
    assert result.feedback_kinds == []
    assert result.final_response == "1. Reflection ... 4. Final answer. Answer: 5"
