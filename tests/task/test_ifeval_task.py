"""IFEval as a task: strict scoring, the label-free check, and the four accuracies."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from reflectlab.errors import InputError
from reflectlab.task import IFEvalTask, get_task

RECORDS = [
    {"key": 7, "prompt": "Describe Paris in under 20 words, without commas.",
     "instruction_id_list": ["length_constraints:number_words", "punctuation:no_comma"],
     "kwargs": [{"relation": "less than", "num_words": 20}, {}]},
    {"key": 8, "prompt": "List three fruits as exactly 3 markdown bullets.",
     "instruction_id_list": ["detectable_format:number_bullet_lists"],
     "kwargs": [{"num_bullets": 3}]},
]  # fmt: skip


@pytest.fixture
def task(tmp_path: Path) -> IFEvalTask:
    path = tmp_path / "input_data.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in RECORDS))
    loaded = get_task(f"ifeval:{path}")
    assert isinstance(loaded, IFEvalTask)
    return loaded


async def test_samples_keep_keys_and_prompts(task: IFEvalTask) -> None:
    assert [s.id for s in task.samples()] == ["7", "8"]
    assert task.format_prompt(task.samples()[0]) == RECORDS[0]["prompt"]


async def test_strict_score_with_loose_details(task: IFEvalTask) -> None:
    paris = task.samples()[0]
    good = await task.score(paris, "Paris is the bright capital of France.")
    assert good.correct and good.value == 1.0 and good.reason is None
    half = await task.score(paris, "Paris, the capital, is bright.")
    assert not half.correct and half.value == 0.5
    assert half.reason == "not followed (strict): punctuation:no_comma"
    assert half.details["strict"] == [True, False]
    # Loose evaluation forgives a chatty first line; strict does not.
    bullets = task.samples()[1]
    chatty = await task.score(bullets, "* Sure, three fruits:\n* apple\n* pear\n* plum")
    assert not chatty.correct and chatty.details["loose"] == [True]
    assert (await task.score(paris, "")).reason == "empty reply"


async def test_check_describes_unmet_instructions(task: IFEvalTask) -> None:
    result = await task.oracle_check(task.samples()[1], "* apple\n* pear")
    assert not result.passed
    assert result.feedback == (
        "The response does not follow these instructions of the request:\n"
        "- use exactly 3 bullet points, as markdown lines starting with '* '"
    )
    ok = await task.oracle_check(task.samples()[1], "* apple\n* pear\n* plum")
    assert ok.passed and ok.details["unmet"] == []


async def test_summary_metrics_match_the_reference_computation(task: IFEvalTask) -> None:
    samples = task.samples()
    replies = ["Paris, the capital, is bright.", "* apple\n* pear\n* plum"]
    scores = [await task.score(s, r) for s, r in zip(samples, replies, strict=True)]
    metrics = task.summary_metrics(samples, replies, scores)
    assert metrics == {
        "prompt_strict": 0.5,
        "instruction_strict": 2 / 3,
        "prompt_loose": 0.5,
        "instruction_loose": 2 / 3,
    }
    # Scores without per-instruction details are recomputed, with the same result.
    assert task.summary_metrics(samples, replies, []) == metrics


def test_bad_records_fail_at_load_time(tmp_path: Path) -> None:
    path = tmp_path / "bad.jsonl"
    bad = {**RECORDS[0], "kwargs": [{"relation": "less than", "num_word": 20}, {}]}
    path.write_text(json.dumps(RECORDS[1]) + "\n" + json.dumps(bad) + "\n")
    with pytest.raises(InputError, match=r"bad\.jsonl, line 2, field 'kwargs\[0\]\.num_word"):
        get_task(f"ifeval:{path}")
