"""Judge protocols on scripted mock judges: calls, prompts, order mapping, agreement, panels."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest

from reflectlab.errors import ConfigError
from reflectlab.judge import (
    ChecklistJudge,
    JudgeScorer,
    PairwiseJudge,
    PairwisePanel,
    PointwiseJudge,
    PointwisePanel,
)
from reflectlab.judge.formats import read_mt_bench_judge_prompts
from reflectlab.model import MemoryCache, Model, capture_calls, get_model
from reflectlab.model.providers.mock import MockRequest
from reflectlab.task import Sample
from support.data import SHARED_DATA, shared_data

DATA = SHARED_DATA
_ANSWER = re.compile(
    r"\[The Start of Assistant (A|B)'s Answer\]\n(.*?)\n\[The End of Assistant \1's Answer\]", re.S
)


def shown(request: MockRequest) -> dict[str, str]:
    """The answers as the judge saw them: {"A": first shown, "B": second shown}."""
    return dict(_ANSWER.findall(request.prompt))


def mock(script: list[str] | Callable[[MockRequest], str], name: str = "judge") -> Model:
    return get_model(f"mock/{name}", outputs=script)


def mt_bench(name: str) -> tuple[str, str]:
    prompt = next(
        p
        for p in read_mt_bench_judge_prompts(shared_data("mt_bench", "judge_prompts.jsonl"))
        if p.name == name
    )
    return prompt.system_prompt, prompt.prompt_template


# ------------------------------------------------------------------------------ pointwise


async def test_pointwise_one_judge_call_with_mt_bench_prompt_verbatim() -> None:
    judge = PointwiseJudge(mock(["The answer is right but terse. Rating: [[7]]"]))
    with capture_calls() as events:
        result = await judge.judge("What is 2+2?", "4")
    assert result.score == 7.0 and result.parse_error is None
    assert result.reasoning == "The answer is right but terse. Rating: [[7]]"
    assert (result.scale, result.reference_guided, result.judge) == ((1, 10), False, "mock/judge")
    [event] = events
    assert event.role == "judge" and event.tags["judge_protocol"] == "pointwise"
    assert event.config.temperature == 0.0
    system, template = mt_bench("single-v1")
    assert [m.role for m in event.messages] == ["system", "user"]
    assert event.messages[0].content == system
    assert event.messages[1].content == template.format(question="What is 2+2?", answer="4")


async def test_pointwise_reference_guided_uses_single_math_v1() -> None:
    judge = PointwiseJudge(mock(["Matches the reference. [[9]]"]))
    with capture_calls() as events:
        result = await judge.judge("What is 6*7?", "42", reference="6*7 = 42")
    assert result.score == 9.0 and result.reference_guided
    _, template = mt_bench("single-math-v1")
    assert events[0].messages[1].content == template.format(
        question="What is 6*7?", answer="42", ref_answer_1="6*7 = 42"
    )


async def test_pointwise_scale_and_rubric_are_substituted_and_enforced() -> None:
    judge = PointwiseJudge(mock(["[[6]]", "[[4]]"]), scale=(1, 5), rubric="Is it polite?")
    with capture_calls() as events:
        out_of_scale = await judge.judge("Say hi.", "hi")
        in_scale = await judge.judge("Say hi.", "hello")
    prompt = events[0].messages[1].content
    assert "on a scale of 1 to 5" in prompt and '"Rating: [[3]]"' in prompt
    assert "rubric:\nIs it polite?" in prompt and "creativity" not in prompt
    assert out_of_scale.score is None
    assert out_of_scale.parse_error == "rating 6 is outside the scale 1-5"
    assert in_scale.score == 4.0


def test_bad_scale_is_a_config_error() -> None:
    for scale in [(5, 1), (1, 1), (1.5, 10)]:
        with pytest.raises(ConfigError, match="scale"):
            PointwiseJudge(mock([]), scale=scale)  # type: ignore[arg-type]


# ------------------------------------------------------------------------------ pairwise


def prefers(word: str) -> Callable[[MockRequest], str]:
    """A position-blind judge: picks whichever shown answer contains ``word``."""

    def script(request: MockRequest) -> str:
        answers = shown(request)
        return "[[A]]" if word in answers["A"] else "[[B]]"

    return script


async def test_pairwise_runs_both_orders_and_maps_the_swap_back() -> None:
    judge = PairwiseJudge(mock(prefers("good")))
    with capture_calls() as events:
        result = await judge.judge("Q?", "a bad answer", "a good answer")
    assert len(events) == 2 and {e.role for e in events} == {"judge"}
    by_order = {e.tags["judge_order"]: e for e in events}
    assert set(by_order) == {"original", "swapped"}
    original_prompt = by_order["original"].messages[1].content
    swapped_prompt = by_order["swapped"].messages[1].content
    assert original_prompt.index("a bad answer") < original_prompt.index("a good answer")
    assert swapped_prompt.index("a good answer") < swapped_prompt.index("a bad answer")
    # The good answer is B as stored: shown second it is [[B]], shown first [[A]] -> mapped B.
    assert (result.original.shown, result.original.raw, result.original.verdict) == ("AB", "B", "B")
    assert (result.swapped.shown, result.swapped.raw, result.swapped.verdict) == ("BA", "A", "B")
    assert result.verdict == "B" and result.consistent is True
    system, template = mt_bench("pair-v2")
    assert by_order["original"].messages[0].content == system
    assert original_prompt == template.format(
        question="Q?", answer_a="a bad answer", answer_b="a good answer"
    )


async def test_a_verdict_counts_only_when_both_orders_agree() -> None:
    always_a = PairwiseJudge(mock(["[[A]]"] * 2))
    result = await always_a.judge("Q?", "x", "y")
    assert (result.original.verdict, result.swapped.verdict) == ("A", "B")
    assert result.verdict == "inconsistent" and result.consistent is False
    as_tie = PairwiseJudge(mock(["[[A]]"] * 2), on_disagreement="tie")
    assert (await as_tie.judge("Q?", "x", "y")).verdict == "tie"
    ties = PairwiseJudge(mock(["[[C]]", "[[C]]"]))
    assert (await ties.judge("Q?", "x", "y")).verdict == "tie"


async def test_an_unparseable_order_makes_the_pair_unparseable_not_guessed() -> None:
    def script(request: MockRequest) -> str:
        return "[[A]]" if shown(request)["A"] == "x" else "I cannot decide."

    result = await PairwiseJudge(mock(script)).judge("Q?", "x", "y")
    assert result.original.verdict == "A" and result.swapped.verdict is None
    assert result.verdict is None and result.consistent is None
    assert result.parse_error is not None and result.parse_error.startswith("swapped order:")


async def test_no_tie_prompt_and_parsing() -> None:
    judge = PairwiseJudge(mock(["[[C]]", "[[C]]"]), allow_tie=False)
    with capture_calls() as events:
        result = await judge.judge("Q?", "x", "y")
    system = events[0].messages[0].content
    assert "[[C]]" not in system and '"[[A]]" if assistant A is better' in system
    assert result.verdict is None
    assert result.original.parse_error == "a tie was not allowed"


async def test_pairwise_reference_guided_uses_pair_math_v1() -> None:
    judge = PairwiseJudge(mock(["[[A]]", "[[B]]"]))
    with capture_calls() as events:
        result = await judge.judge("Q?", "x", "y", reference="R")
    assert result.reference_guided and result.verdict == "A"
    system, template = mt_bench("pair-math-v1")
    original = next(e for e in events if e.tags["judge_order"] == "original")
    assert original.messages[0].content == system
    assert original.messages[1].content == template.format(
        question="Q?", answer_a="x", answer_b="y", ref_answer_1="R"
    )


def test_bad_disagreement_rule_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="on_disagreement"):
        PairwiseJudge(mock([]), on_disagreement="coin")  # type: ignore[arg-type]


# ------------------------------------------------------------------------------ checklist


def tick_script(request: MockRequest) -> str:
    prompt = request.prompt
    if "Write a checklist" in prompt:
        return "1. Is it a haiku?\n2. Does it mention autumn?\n3. Is it in French?"
    if "in French?" in prompt:
        return "Hard to say."
    return "[[YES]]" if "haiku?" in prompt else "It does not. [[NO]]"


async def test_checklist_generates_answers_each_question_and_scores_share_of_yes() -> None:
    judge = ChecklistJudge(mock(tick_script))
    with capture_calls() as events:
        result = await judge.judge("Write a haiku about autumn.", "Leaves fall, cold wind blows")
    assert len(events) == 4 and all(e.role == "judge" for e in events)
    steps = [e.tags["judge_step"] for e in events]
    assert steps.count("generate") == 1 and steps.count("answer") == 3
    generate = next(e for e in events if e.tags["judge_step"] == "generate")
    assert "Write a haiku about autumn." in generate.messages[0].content
    assert "Leaves fall" not in generate.messages[0].content  # from the instruction alone
    assert result.checklist.questions == [
        "Is it a haiku?",
        "Does it mention autumn?",
        "Is it in French?",
    ]
    assert [i.answer for i in result.items] == [True, False, None]
    assert (result.n_yes, result.n_no, result.n_unparsed) == (1, 1, 1)
    assert result.score == 0.5  # unparsed answers are not counted as NO
    assert result.items[2].parse_error is not None


async def test_checklist_can_be_reused_without_a_generation_call() -> None:
    judge = ChecklistJudge(mock(tick_script))
    checklist = await judge.generate_checklist("Write a haiku about autumn.")
    with capture_calls() as events:
        result = await judge.judge("Write a haiku.", "r", checklist=checklist)
        own = await judge.judge("Write a haiku.", "r", checklist=["Is it a haiku?"])
    assert all(e.tags["judge_step"] == "answer" for e in events) and len(events) == 4
    assert result.checklist == checklist and own.score == 1.0


async def test_checklist_generation_failure_is_counted() -> None:
    result = await ChecklistJudge(mock(["Sorry, no."])).judge("Do it.", "done")
    assert result.score is None and result.items == []
    assert result.parse_error == "no questions found in the generated checklist"


# ------------------------------------------------------------------------------ panels


async def test_pointwise_panel_is_the_mean_of_parsed_members() -> None:
    panel = PointwisePanel(
        [
            PointwiseJudge(mock(["[[4]]"], "j1")),
            PointwiseJudge(mock(["[[8]]"], "j2")),
            PointwiseJudge(mock(["no idea"], "j3")),
        ]
    )
    result = await panel.judge("Q?", "r")
    assert result.score == 6.0 and result.n_unparsed == 1
    assert [m.judge for m in result.members] == ["mock/j1", "mock/j2", "mock/j3"]
    empty = await PointwisePanel([PointwiseJudge(mock(["?"], "j4"))]).judge("Q?", "r")
    assert empty.score is None and empty.parse_error


def test_pointwise_panel_refuses_mixed_scales() -> None:
    with pytest.raises(ConfigError, match="different scales"):
        PointwisePanel(
            [PointwiseJudge(mock([]), scale=(1, 10)), PointwiseJudge(mock([]), scale=(1, 5))]
        )


async def test_pairwise_panel_majority_and_abstentions() -> None:
    good = PairwiseJudge(mock(prefers("good"), "g1"))
    good2 = PairwiseJudge(mock(prefers("good"), "g2"))
    bad = PairwiseJudge(mock(prefers("bad"), "b1"))
    positional = PairwiseJudge(mock(["[[A]]"] * 2, "p1"))
    unparseable = PairwiseJudge(get_model("mock/u1", outputs=["?"], cycle=True))

    result = await PairwisePanel([good, good2, bad]).judge("Q?", "bad one", "good one")
    assert result.verdict == "B"
    assert result.votes == {"A": 1, "B": 2, "tie": 0, "abstained": 0}
    split = await PairwisePanel([bad, positional, unparseable]).judge("Q?", "bad", "good")
    assert split.verdict == "A" and split.votes["abstained"] == 2
    none = await PairwisePanel([unparseable]).judge("Q?", "bad", "good")
    assert none.verdict is None and none.parse_error == "every member abstained"


async def test_pairwise_panel_tied_vote_is_a_tie() -> None:
    panel = PairwisePanel(
        [PairwiseJudge(mock(prefers("x"), "x")), PairwiseJudge(mock(prefers("y"), "y"))]
    )
    assert (await panel.judge("Q?", "x", "y")).verdict == "tie"


# ------------------------------------------------------------------------------ scorer


async def test_judge_scorer_thresholds_and_counts_unparseable_as_wrong() -> None:
    judge = PointwiseJudge(
        get_model("mock/s", outputs=["[[8]]", "[[5]]", "no rating"], cache=MemoryCache())
    )
    scorer = JudgeScorer(judge, threshold=7)
    sample = Sample(id="1", input="Explain gravity.", target="mass attracts mass")
    high, low, broken = [await scorer(sample, r) for r in ("r1", "r2", "r3")]
    assert high.correct and high.value == pytest.approx(7 / 9)
    assert high.details["rating"] == 8.0 and high.details["threshold"] == 7
    assert not low.correct and low.value == pytest.approx(4 / 9)
    assert not broken.correct and broken.value == 0.0
    assert broken.reason is not None and broken.reason.startswith("unparseable judge verdict")


async def test_judge_scorer_reference_comes_from_the_target_only_when_asked() -> None:
    judge = PointwiseJudge(mock(["[[9]]", "[[9]]"]))
    sample = Sample(id="1", input="What is 6*7?", target="42")
    with capture_calls() as events:
        await JudgeScorer(judge, threshold=5).score(sample, "42")
        await JudgeScorer(judge, threshold=5, use_target_as_reference=True).score(sample, "42")
    assert "Reference Answer" not in events[0].messages[1].content
    assert "[The Start of Reference Answer]\n42\n" in events[1].messages[1].content
    with pytest.raises(ConfigError, match="outside"):
        JudgeScorer(judge, threshold=11)


def test_judge_scorer_fits_the_task_scorer_protocol() -> None:
    import importlib

    import reflectlab.task as task

    scorer_protocol = getattr(task, "Scorer", None)
    if scorer_protocol is None:  # the task package's scorer seam, before it is exported
        try:
            scorer_protocol = importlib.import_module("reflectlab.task._scorers").Scorer
        except (ImportError, AttributeError):
            pytest.skip("reflectlab.task has no Scorer protocol yet")
    assert isinstance(JudgeScorer(PointwiseJudge(mock([])), threshold=5), scorer_protocol)


# ------------------------------------------------------------------------------ concurrency


async def test_gather_limited_caps_jobs_in_flight_and_keeps_order() -> None:
    import asyncio

    from reflectlab.judge._gather import gather_limited

    running = peak = 0

    async def job(i: int) -> int:
        nonlocal running, peak
        running += 1
        peak = max(peak, running)
        for _ in range(3):  # yield to the loop so other jobs could start if allowed
            await asyncio.sleep(0)
        running -= 1
        return i

    results = await gather_limited([lambda i=i: job(i) for i in range(10)], 3)  # type: ignore[misc]
    assert results == list(range(10)) and peak == 3
    with pytest.raises(ConfigError, match="concurrency"):
        await gather_limited([], 0)
