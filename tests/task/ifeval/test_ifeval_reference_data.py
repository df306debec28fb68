"""Scoring the IFEval paper's GPT-4 responses reproduces its figures, and per-item results agree
with third-party outputs of the reference checker.

The data is read from ``<repo>/../shared/data/ifeval/`` (never copied into the repository); the
tests skip when it is absent. Provenance is in that directory's README.md.
"""

from __future__ import annotations

import json

import pytest

from reflectlab.task.ifeval import (
    INSTRUCTION_IDS,
    IFEvalRecord,
    IFEvalScores,
    load_ifeval_inputs,
    load_ifeval_responses,
    score_responses,
)
from support.data import SHARED_DATA

DATA = SHARED_DATA / "ifeval"
INPUTS = DATA / "input_data.jsonl"
GPT4_RESPONSES = DATA / "input_response_data_gpt4_20231107_145030.jsonl"

pytestmark = pytest.mark.skipif(
    not (INPUTS.exists() and GPT4_RESPONSES.exists()),
    reason=f"IFEval data not found under {DATA} (shared data directory absent)",
)

# Zhou et al. 2023, Table 3: GPT-4 strict accuracies, in percent.
PAPER_PROMPT_STRICT = 76.89
PAPER_INSTRUCTION_STRICT = 83.57

# Per-instruction disagreements with the derived reference outputs, each explained:
# the reference version that produced those files replaced any non a-z letter in
# keywords:letter_frequency ("#", "!") by a *random* letter; this checker (like the current
# reference) counts the letter asked for, and both responses do contain it often enough.
KNOWN_DISAGREEMENTS = {
    "strict": {("1122", "keywords:letter_frequency"), ("1129", "keywords:letter_frequency")},
    "loose": set(),
}


@pytest.fixture(scope="module")
def records() -> list[IFEvalRecord]:
    return load_ifeval_inputs(INPUTS)


@pytest.fixture(scope="module")
def scores(records: list[IFEvalRecord]) -> IFEvalScores:
    return score_responses(records, load_ifeval_responses(GPT4_RESPONSES, records))


def test_data_covers_all_25_instruction_types(records: list[IFEvalRecord]) -> None:
    assert len(records) == 541
    assert sum(len(record.instruction_ids) for record in records) == 834
    used = {instruction for record in records for instruction in record.instruction_ids}
    assert used == set(INSTRUCTION_IDS)


def test_gpt4_strict_figures_match_the_paper_within_one_point(scores: IFEvalScores) -> None:
    assert abs(100 * scores.prompt_strict - PAPER_PROMPT_STRICT) <= 1.0
    assert abs(100 * scores.instruction_strict - PAPER_INSTRUCTION_STRICT) <= 1.0


def test_gpt4_figures_are_stable(scores: IFEvalScores) -> None:
    # Exact counts pin any behaviour change: 541 prompts, 834 instructions.
    assert round(scores.prompt_strict * 541) == 417  # 77.08 %
    assert round(scores.instruction_strict * 834) == 698  # 83.69 %
    assert round(scores.prompt_loose * 541) == 431  # 79.67 %
    assert round(scores.instruction_loose * 834) == 714  # 85.61 %


def _disagreements(
    records: list[IFEvalRecord], scores: IFEvalScores, mode: str
) -> tuple[set[tuple[str, str]], int]:
    path = DATA / "derived_podtech" / f"eval_results_{mode}.jsonl"
    if not path.exists():
        pytest.skip(f"derived reference results absent: {path}")
    index = {record.prompt: position for position, record in enumerate(records)}
    disagreements: set[tuple[str, str]] = set()
    compared = 0
    for line in path.read_text(encoding="utf-8").splitlines():
        reference = json.loads(line)
        position = index.get(reference["prompt"])
        if position is None:  # the one prompt patched after those files were made
            continue
        item = scores.per_item[position]
        ours = (item.loose if mode == "loose" else item.strict).follow_list
        for instruction, mine, theirs in zip(
            item.instruction_ids, ours, reference["follow_instruction_list"], strict=True
        ):
            compared += 1
            if mine != theirs:
                disagreements.add((item.id, instruction))
    return disagreements, compared


@pytest.mark.parametrize("mode", ["strict", "loose"])
def test_per_instruction_agreement_with_reference_outputs(
    records: list[IFEvalRecord], scores: IFEvalScores, mode: str
) -> None:
    disagreements, compared = _disagreements(records, scores, mode)
    assert compared == 832  # 540 of the 541 prompts
    assert 1 - len(disagreements) / compared >= 0.99
    assert disagreements == KNOWN_DISAGREEMENTS[mode]
