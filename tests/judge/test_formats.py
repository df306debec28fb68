"""Tests for the judge-benchmark readers and the pairwise meta-evaluation."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from reflectlab.errors import ConfigError, InputError
from reflectlab.judge.formats import (
    PairwiseVerdicts,
    llmbar_statistics_strings,
    pairwise_meta_eval,
    parse_judgebench_decision,
    read_judgebench_judgments,
    read_judgebench_pairs,
    read_llmbar_dataset,
    read_llmbar_result,
    read_llmbar_statistics,
    read_mt_bench_judge_prompts,
    read_pairwise_verdicts,
)
from support.data import SHARED_DATA

DATA = SHARED_DATA


def _json(path: Path, data: Any) -> Path:
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


def _jsonl(path: Path, rows: list[Any]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


# ---------------------------------------------------------------- pairwise meta-evaluation


def _v(gold: str, original: str | None, swapped: str | None) -> PairwiseVerdicts:
    data = {"id": "x", "gold": gold, "original": original, "swapped": swapped}
    return PairwiseVerdicts.model_validate(data)


def test_pairwise_meta_eval_hand_counts() -> None:
    verdicts = [
        _v("A", "A", "A"),  # right twice, consistent
        _v("A", "A", "B"),  # position-flipped: right once
        _v("B", "A", "A"),  # wrong twice, consistent
        _v("B", None, None),  # unparsed twice: agrees only under LLMBar's rule
        _v("B", "tie", "B"),  # tie then right: net vote +1
    ]
    m = pairwise_meta_eval(verdicts)
    assert (m.n, m.correct_original, m.correct_swapped, m.correct_both) == (5, 2, 2, 1)
    assert (m.equal, m.unparsed, m.ties, m.net_vote_correct) == (2, 2, 1, 2)
    assert (m.n_parsed_original, m.n_parsed_swapped, m.n_both_parsed, m.both_unparsed) == (
        4, 4, 4, 1,
    )  # fmt: skip
    assert m.accuracy_average == pytest.approx(0.4)
    assert m.accuracy_both == pytest.approx(0.2)
    assert m.positional_agreement == pytest.approx(2 / 4)  # over the pairs with both parsed
    assert m.net_vote_accuracy == pytest.approx(0.4)
    llmbar = pairwise_meta_eval(verdicts, unparsed_agree=True)
    assert llmbar.equal == 3 and llmbar.positional_agreement == pytest.approx(0.6)
    expected = {
        "correct_False": "2 / 5 = 40.0%",
        "correct_True": "2 / 5 = 40.0%",
        "correct_average": "40.0%",
        "correct_both": "1 / 5 = 20.0%",
        "equal": "3 / 5 = 60.0%",
    }
    # LLMBar's strings follow LLMBar's rule whichever rule the counts were made with.
    assert llmbar_statistics_strings(m) == llmbar_statistics_strings(llmbar) == expected
    with pytest.raises(ConfigError):
        pairwise_meta_eval([])


@pytest.mark.parametrize("unparsed_agree", [False, True])
def test_no_parsed_verdict_gives_no_rate(unparsed_agree: bool) -> None:
    # Eight unparsed verdicts are neither "accuracy 0" nor "positional agreement 1".
    m = pairwise_meta_eval([_v("A", None, None)] * 4, unparsed_agree=unparsed_agree)
    assert (m.unparsed, m.n_both_parsed, m.both_unparsed) == (8, 0, 4)
    assert m.accuracy_original is None and m.accuracy_swapped is None
    assert m.accuracy_average is None and m.accuracy_both is None
    assert m.net_vote_accuracy is None and m.positional_agreement is None
    assert llmbar_statistics_strings(m)["equal"] == "4 / 4 = 100.0%"  # LLMBar's own rule


def test_half_parsed_pair_is_no_evidence_of_agreement() -> None:
    m = pairwise_meta_eval([_v("A", "A", None), _v("A", "A", "A")])
    assert (m.equal, m.n_both_parsed, m.positional_agreement) == (1, 1, 1.0)
    assert m.accuracy_original == 1.0 and m.accuracy_swapped == 0.5  # unparsed counts wrong
    assert m.accuracy_both == 0.5


# ---------------------------------------------------------------- LLMBar


def _llmbar_record(label: int, original: str | None, swapped: str | None) -> dict[str, Any]:
    return {
        "input": "q",
        "output_1": "one",
        "output_2": "two",
        "label": label,
        "results": [
            ["auxiliary generation", "stop"],
            {"swap = False": {"winner": original}, "swap = True": {"winner": swapped}},
        ],
    }


def test_llmbar_dataset_and_result(tmp_path: Path) -> None:
    records = [
        _llmbar_record(1, "1", "1"),
        _llmbar_record(2, "1", "2"),
        _llmbar_record(2, None, None),
    ]
    path = _json(tmp_path / "result.json", records)
    examples = read_llmbar_dataset(path)
    assert [(e.id, e.gold, e.response_a) for e in examples] == [
        ("0", "A", "one"), ("1", "B", "one"), ("2", "B", "one"),
    ]  # fmt: skip
    verdicts = read_llmbar_result(path)
    assert [(v.original, v.swapped) for v in verdicts] == [("A", "A"), ("A", "B"), (None, None)]
    assert read_pairwise_verdicts(path) == verdicts


def test_llmbar_errors_name_record_and_field(tmp_path: Path) -> None:
    bad_label = _json(
        tmp_path / "a.json", [_llmbar_record(1, "1", "1"), _llmbar_record(3, "1", "1")]
    )
    with pytest.raises(InputError, match=r"a\.json, field 'label': record 1: expected 1 or 2"):
        read_llmbar_dataset(bad_label)
    bad_winner = _json(tmp_path / "b.json", [_llmbar_record(1, "1", "A")])
    with pytest.raises(InputError, match=r"swap = True.*record 0: expected winner"):
        read_llmbar_result(bad_winner)
    no_results = _json(
        tmp_path / "c.json", [{"input": "q", "output_1": "a", "output_2": "b", "label": 1}]
    )
    with pytest.raises(InputError, match="field 'results'"):
        read_llmbar_result(no_results)
    missing_field = _json(tmp_path / "d.json", [{"input": "q", "output_1": "a", "label": 1}])
    with pytest.raises(InputError, match="field 'output_2': record 0: missing field"):
        read_llmbar_dataset(missing_field)
    with pytest.raises(InputError, match="expected a JSON list"):
        read_llmbar_dataset(_json(tmp_path / "e.json", {"input": "q"}))


def test_llmbar_statistics_parse(tmp_path: Path) -> None:
    stats = {
        "correct_False": "95 / 100 = 95.0%",
        "correct_True": "96 / 100 = 96.0%",
        "correct_average": "95.5%",
        "correct_both": "93 / 100 = 93.0%",
        "equal": "95 / 100 = 95.0%",
        "kappa_False": 0.26775689528923596,
    }
    parsed = read_llmbar_statistics(_json(tmp_path / "statistics.json", stats))
    assert (parsed.n, parsed.correct_false, parsed.correct_true) == (100, 95, 96)
    assert (parsed.correct_both, parsed.equal, parsed.correct_average_percent) == (93, 95, 95.5)
    assert parsed.raw == stats
    bad = dict(stats, equal="95 of 100")
    with pytest.raises(InputError, match="field 'equal'"):
        read_llmbar_statistics(_json(tmp_path / "bad.json", bad))
    mixed = dict(stats, equal="95 / 99 = 95.9%")
    with pytest.raises(InputError, match="disagree on the item count"):
        read_llmbar_statistics(_json(tmp_path / "mixed.json", mixed))


# ---------------------------------------------------------------- JudgeBench


def _pair(pair_id: str, label: str) -> dict[str, Any]:
    return {
        "pair_id": pair_id,
        "original_id": 1,
        "source": "mmlu-pro-law",
        "question": "q",
        "response_model": "m",
        "response_A": "ra",
        "response_B": "rb",
        "label": label,
    }


def _game(decision: str | None) -> dict[str, Any]:
    return {"judgment": {"judge_model": "j", "prompt": "", "response": ""}, "decision": decision}


def test_judgebench_pairs(tmp_path: Path) -> None:
    path = _jsonl(tmp_path / "pairs.jsonl", [_pair("p1", "A>B"), _pair("p2", "B>A")])
    pairs = read_judgebench_pairs(path)
    assert [(p.id, p.gold, p.source, p.response_b) for p in pairs] == [
        ("p1", "A", "mmlu-pro-law", "rb"), ("p2", "B", "mmlu-pro-law", "rb"),
    ]  # fmt: skip


def test_judgebench_second_game_is_mapped_back(tmp_path: Path) -> None:
    rows = [
        # Game 2 shows (B, A): its "B>A" means the original A won -> consistent and right.
        dict(_pair("p1", "A>B"), judgments=[_game("A>B"), _game("B>A")]),
        # Game 2 says "A>B" in swapped positions = original B: a position-driven flip.
        dict(_pair("p2", "A>B"), judgments=[_game("A>B"), _game("A>B")]),
        # A failed call (null game) and a tie.
        dict(_pair("p3", "B>A"), judgments=[None, _game("A=B")]),
        dict(_pair("p4", "B>A"), judgments=[_game("B>>A"), _game(None)]),
    ]
    verdicts = read_judgebench_judgments(_jsonl(tmp_path / "out.jsonl", rows))
    assert [(v.id, v.gold, v.original, v.swapped) for v in verdicts] == [
        ("p1", "A", "A", "A"),
        ("p2", "A", "A", "B"),
        ("p3", "B", None, "tie"),
        ("p4", "B", "B", None),
    ]
    m = pairwise_meta_eval(verdicts)
    assert (m.correct_original, m.correct_swapped, m.correct_both, m.equal) == (3, 1, 1, 1)
    # JudgeBench's vote: p1 +2, p2 0, p3 0, p4 +1 -> 2 of 4 correct.
    assert m.net_vote_correct == 2
    assert read_pairwise_verdicts(tmp_path / "out.jsonl") == verdicts


def test_parse_judgebench_decision() -> None:
    assert parse_judgebench_decision("A>B") == "A"
    assert parse_judgebench_decision("A>B", swapped=True) == "B"
    assert parse_judgebench_decision("A=B", swapped=True) == "tie"
    assert parse_judgebench_decision(None, swapped=True) is None
    with pytest.raises(ValueError):
        parse_judgebench_decision("A<B")


def test_judgebench_errors_name_line_and_field(tmp_path: Path) -> None:
    good = dict(_pair("p1", "A>B"), judgments=[_game("A>B"), _game("B>A")])
    bad_decision = dict(_pair("p2", "A>B"), judgments=[_game("A>B"), _game("[[A]]")])
    path = _jsonl(tmp_path / "o.jsonl", [good, bad_decision])
    with pytest.raises(InputError, match=r"o\.jsonl, line 2, field 'judgments\[1\]\.decision'"):
        read_judgebench_judgments(path)
    single = dict(_pair("p1", "A>B"), judgments=[_game("A>B")])
    with pytest.raises(InputError, match=r"line 1, field 'judgments'.*got 1"):
        read_judgebench_judgments(_jsonl(tmp_path / "s.jsonl", [single]))
    bad_label = dict(_pair("p1", "A=B"), judgments=[_game("A>B"), _game("B>A")])
    with pytest.raises(InputError, match="field 'label'"):
        read_judgebench_judgments(_jsonl(tmp_path / "l.jsonl", [bad_label]))
    broken = tmp_path / "broken.jsonl"
    broken.write_text(json.dumps(_pair("p1", "A>B")) + "\n{not json\n", encoding="utf-8")
    with pytest.raises(InputError, match="line 2: invalid JSON"):
        read_judgebench_pairs(broken)
    with pytest.raises(ConfigError, match="extension"):
        read_pairwise_verdicts(tmp_path / "verdicts.txt")


# ---------------------------------------------------------------- MT-Bench


def test_mt_bench_judge_prompts_real_file() -> None:
    path = DATA / "mt_bench" / "judge_prompts.jsonl"
    if not path.exists():
        pytest.skip(f"MT-Bench judge prompts not found at {path}")
    prompts = {p.name: p for p in read_mt_bench_judge_prompts(path)}
    assert len(prompts) == 8
    assert prompts["pair-v2"].type == "pairwise"
    assert prompts["pair-v2"].output_format == "[[A]]"
    assert prompts["pair-v2"].template_fields == ["question", "answer_a", "answer_b"]
    assert "ref_answer_1" in prompts["single-math-v1"].template_fields
    assert prompts["single-v1"].type == "single"


def test_mt_bench_judge_prompt_errors(tmp_path: Path) -> None:
    row = {
        "name": "p",
        "type": "pairwise",
        "system_prompt": "s",
        "prompt_template": "{question}",
        "description": "d",
        "category": "general",
        "output_format": "[[A]]",
    }
    with pytest.raises(InputError, match="line 2, field 'type'"):
        read_mt_bench_judge_prompts(_jsonl(tmp_path / "a.jsonl", [row, dict(row, type="x")]))
    with pytest.raises(InputError, match="line 2, field 'name': duplicate"):
        read_mt_bench_judge_prompts(_jsonl(tmp_path / "b.jsonl", [row, row]))
    missing = {k: v for k, v in row.items() if k != "category"}
    with pytest.raises(InputError, match="line 1, field 'category'"):
        read_mt_bench_judge_prompts(_jsonl(tmp_path / "c.jsonl", [missing]))
