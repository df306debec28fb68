"""Critic evaluation on GSM8K's real labelled model solutions, with scripted critics."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from reflectlab.errors import InputError
from reflectlab.judge import evaluate_critic, load_gsm8k_solutions
from reflectlab.judge.critic_eval import GSM8K_SOLUTION_SOURCES
from reflectlab.model import capture_calls, get_model
from reflectlab.model.providers.mock import MockRequest
from support.data import SHARED_DATA, needs_shared_data

SOLUTIONS = SHARED_DATA / "gsm8k" / "example_model_solutions.jsonl"

pytestmark = needs_shared_data("gsm8k", "example_model_solutions.jsonl")


def raw_lines(n: int) -> list[dict[str, object]]:
    with SOLUTIONS.open(encoding="utf-8") as handle:
        return [json.loads(next(handle)) for _ in range(n)]


def test_load_reads_every_source_with_its_label() -> None:
    items = load_gsm8k_solutions(SOLUTIONS, limit=20)
    assert len(items) == 20 * len(GSM8K_SOLUTION_SOURCES)
    assert items[0].id == "1/6b_finetuning" and items[-1].id == "20/175b_verification"
    expected = [
        (line[s]["is_correct"], line[s]["solution"])  # type: ignore[index]
        for line in raw_lines(20)
        for s in GSM8K_SOLUTION_SOURCES
    ]
    assert [(i.is_correct, i.solution) for i in items] == expected
    assert {i.is_correct for i in items} == {True, False}  # the slice has both classes
    only = load_gsm8k_solutions(SOLUTIONS, sources=["175b_verification"], limit=3)
    assert [i.source for i in only] == ["175b_verification"] * 3


async def test_a_critic_that_flags_everything_has_recall_1_and_fpr_1() -> None:
    items = load_gsm8k_solutions(SOLUTIONS, limit=15)
    critic = get_model("mock/critic", outputs=["Something is off. [[INCORRECT]]"], cycle=True)
    with capture_calls() as events:
        result = await evaluate_critic(critic, items, concurrency=4)
    n_wrong = sum(not i.is_correct for i in items)
    ev = result.evaluation
    assert (ev.n, ev.n_wrong, ev.tp, ev.fp, ev.fn, ev.unparsed) == (
        60,
        n_wrong,
        n_wrong,
        60 - n_wrong,
        0,
        0,
    )
    assert ev.recall == 1.0 and ev.false_positive_rate == 1.0
    assert ev.precision == pytest.approx(n_wrong / 60)
    assert set(result.by_source) == set(GSM8K_SOLUTION_SOURCES)
    assert sum(e.n for e in result.by_source.values()) == 60
    assert len(events) == 60 and {e.role for e in events} == {"judge"}
    # The critic sees the question and the solution, never the ground truth.
    truths = [str(line["ground_truth"]) for line in raw_lines(15)]
    for event in events:
        prompt = event.messages[-1].content
        assert not any(truth in prompt for truth in truths)


async def test_an_oracle_like_critic_is_perfect_and_the_labels_are_not_inverted() -> None:
    items = load_gsm8k_solutions(SOLUTIONS, limit=10)
    label = {i.solution: i.is_correct for i in items}

    def knows(request: MockRequest) -> str:
        solution = request.prompt.split("[The Start of the Solution]\n")[1].split(
            "\n[The End of the Solution]"
        )[0]
        return "[[CORRECT]]" if label[solution] else "[[INCORRECT]]"

    result = await evaluate_critic(get_model("mock/oracle", outputs=knows), items)
    ev = result.evaluation
    assert (ev.precision, ev.recall, ev.f1, ev.false_positive_rate) == (1.0, 1.0, 1.0, 0.0)
    assert all(j.flagged is (not j.is_correct) for j in result.judgments)


async def test_unparseable_critic_verdicts_are_counted_and_not_flags() -> None:
    items = load_gsm8k_solutions(SOLUTIONS, limit=5)
    critic = get_model("mock/vague", outputs=["It might be fine."], cycle=True)
    result = await evaluate_critic(critic, items)
    ev = result.evaluation
    assert ev.unparsed == 20 and ev.tp == 0 and ev.fp == 0
    # No verdict parsed: nothing was measured, so no rate (not recall 0, FPR 0, accuracy =
    # the share of correct solutions).
    assert (ev.precision, ev.recall, ev.f1, ev.false_positive_rate, ev.accuracy) == (None,) * 5
    assert ev.note == "no critic verdict parsed (20 unparsed): nothing measured"
    assert all(j.verdict is None and j.parse_error for j in result.judgments)


def test_malformed_solution_file_names_line_and_field(tmp_path: Path) -> None:
    good = raw_lines(1)[0]
    bad = dict(good)
    bad["6b_verification"] = {"solution": "x"}
    path = tmp_path / "s.jsonl"
    path.write_text(json.dumps(good) + "\n" + json.dumps(bad) + "\n", encoding="utf-8")
    with pytest.raises(InputError) as info:
        load_gsm8k_solutions(path)
    assert (info.value.line, info.value.field) == (2, "6b_verification.is_correct")
    assert str(path) in str(info.value)
