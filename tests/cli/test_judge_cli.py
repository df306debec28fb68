"""`reflectlab judge`, `meta-eval` and `alt-test` through the real CLI app.

Judge models are an OpenAI-compatible fake server on loopback whose replies are scripted from
the prompt; the CLI runs in a worker thread (it starts its own event loop) while the server
runs in the test's loop.
"""

from __future__ import annotations

import asyncio
import json
import random
import re
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner, Result

from reflectlab._util.fake_openai import FakeOpenAI
from reflectlab.cli import app
from reflectlab.errors import ConfigError, InputError
from reflectlab.judge import alt_test, load_alt_test_inputs
from reflectlab.judge.formats import read_llmbar_statistics
from support.data import SHARED_DATA, shared_data
from support.servers import serve

runner = CliRunner()
DATA = SHARED_DATA
_ANSWER = re.compile(
    r"\[The Start of Assistant (A|B)'s Answer\]\n(.*?)\n\[The End of Assistant \1's Answer\]", re.S
)


def user_prompt(body: dict[str, Any]) -> str:
    return str(next(m["content"] for m in reversed(body["messages"]) if m["role"] == "user"))


def content_judge(body: dict[str, Any]) -> str:
    """Pointwise: [[8]] for a 'good' response, no rating otherwise. Pairwise: the 'good' one."""
    prompt = user_prompt(body)
    answers = dict(_ANSWER.findall(prompt))
    if answers:
        return "Comparing... [[A]]" if "good" in answers["A"] else "Comparing... [[B]]"
    return "Fine. Rating: [[8]]" if "good" in prompt else "I would rather not say."


def write_jsonl(path: Path, rows: list[dict[str, Any]]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


async def invoke(args: list[str]) -> Result:
    return await asyncio.to_thread(runner.invoke, app, args)


def model_args(url: str, tmp_path: Path) -> list[str]:
    return ["--model", "openai/fake", "--base-url", url, "--db", str(tmp_path / "r.db")]


# ------------------------------------------------------------------------------ judge


async def test_judge_pointwise_writes_verdicts_and_a_json_summary(tmp_path: Path) -> None:
    items = write_jsonl(
        tmp_path / "items.jsonl",
        [
            {"id": "a", "instruction": "Explain tides.", "response": "a good answer"},
            {"id": 2, "instruction": "Explain rain.", "response": "a weak answer"},
            {"id": "c", "instruction": "Explain snow.", "response": "good too", "reference": "R"},
        ],
    )
    out = tmp_path / "out" / "verdicts.jsonl"
    fake = FakeOpenAI(responder=content_judge)
    async with serve(fake) as url:
        result = await invoke(
            [
                *["judge", "--protocol", "pointwise", "--input", str(items)],
                *["--output", str(out), "--json", *model_args(url, tmp_path)],
            ]
        )
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert (summary["n"], summary["unparseable"], summary["n_errors"]) == (3, 1, 0)
    assert summary["mean_score"] == 8.0
    assert summary["distribution"] == {"8": 2, "unparseable": 1}
    assert summary["calls"] == 3 and summary["judge"] == "openai/fake"
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert [r["id"] for r in rows] == ["a", "2", "c"]
    assert [r["score"] for r in rows] == [8.0, None, 8.0]
    assert rows[1]["parse_error"].startswith("no rating found")
    assert [r["reference_guided"] for r in rows] == [False, False, True]
    with_reference = [
        b for b in fake.requests if "[The Start of Reference Answer]\nR\n" in user_prompt(b)
    ]
    assert len(with_reference) == 1 and "good too" in user_prompt(with_reference[0])


async def test_judge_pairwise_to_stdout_then_meta_eval_of_its_verdicts(tmp_path: Path) -> None:
    pairs = [
        {"id": "p1", "instruction": "Q1", "response_a": "good", "response_b": "bad", "label": "A"},
        {"id": "p2", "instruction": "Q2", "response_a": "bad", "response_b": "good", "label": "B"},
        {"id": "p3", "instruction": "Q3", "response_a": "good", "response_b": "meh", "label": "B"},
    ]
    items = write_jsonl(tmp_path / "pairs.jsonl", pairs)
    fake = FakeOpenAI(responder=content_judge)
    async with serve(fake) as url:
        result = await invoke(
            ["judge", "-p", "pairwise", "-i", str(items), "--json", *model_args(url, tmp_path)]
        )
    assert result.exit_code == 0, result.output
    assert len(fake.requests) == 6  # both orders of every pair
    rows = [json.loads(line) for line in result.stdout.splitlines()]
    assert [r["verdict"] for r in rows] == ["A", "B", "A"]
    assert [r["swapped"]["shown"] for r in rows] == ["BA"] * 3
    summary = json.loads(result.stderr)  # verdicts own stdout, so the summary goes to stderr
    assert summary["positional_consistency"] == 1.0 and summary["n_both_orders_parsed"] == 3
    assert summary["distribution"] == {
        "A": 2,
        "B": 1,
        "tie": 0,
        "inconsistent": 0,
        "unparseable": 0,
    }

    verdicts = tmp_path / "verdicts.jsonl"
    verdicts.write_text(result.stdout, encoding="utf-8")
    meta = runner.invoke(
        app,
        [
            *["meta-eval", "--format", "jsonl", "--pairs", str(items)],
            *["--verdicts", str(verdicts), "--json"],
        ],
    )
    assert meta.exit_code == 0, meta.output
    report = json.loads(meta.stdout)
    assert report["n"] == 3 and report["accuracy"] == pytest.approx(2 / 3)
    assert report["positional_agreement"] == 1.0
    assert report["meta"]["correct_both"] == 2
    assert report["kappa_vs_gold"] == pytest.approx(0.4)


async def test_malformed_input_fails_naming_the_line_before_any_model_call(
    tmp_path: Path,
) -> None:
    items = tmp_path / "items.jsonl"
    items.write_text(
        '{"id": "1", "instruction": "Q", "response": "r"}\n'
        "\n"
        '{"id": "2", "instruction": "Q", "answer": "r"}\n',
        encoding="utf-8",
    )
    fake = FakeOpenAI(responder=content_judge)
    async with serve(fake) as url:
        result = await invoke(
            ["judge", "--protocol", "pointwise", "--input", str(items), *model_args(url, tmp_path)]
        )
    assert isinstance(result.exception, InputError)
    assert (result.exception.line, result.exception.field) == (3, "response")
    assert str(items) in str(result.exception) and "line 3" in str(result.exception)
    assert fake.requests == []


@pytest.mark.parametrize(
    ("protocol", "row", "line_field"),
    [
        ("reference", {"id": "1", "instruction": "Q", "response": "r"}, (1, "reference")),
        ("pairwise", {"id": "1", "instruction": "Q", "response_a": "r"}, (1, "response_b")),
        ("pointwise", {"instruction": "Q", "response": "r"}, (1, "id")),
        ("pointwise", {"id": "1", "instruction": 3, "response": "r"}, (1, "instruction")),
    ],
)
def test_each_protocol_validates_its_fields(
    tmp_path: Path, protocol: str, row: dict[str, Any], line_field: tuple[int, str]
) -> None:
    items = write_jsonl(tmp_path / "items.jsonl", [row])
    args = ["judge", "-p", protocol, "-i", str(items), "-m", "mock/j", "--db"]
    result = runner.invoke(app, [*args, str(tmp_path / "r.db")])
    assert isinstance(result.exception, InputError)
    assert (result.exception.line, result.exception.field) == line_field


async def test_reference_protocol_takes_either_shape_but_one_per_file(tmp_path: Path) -> None:
    mixed = write_jsonl(
        tmp_path / "mixed.jsonl",
        [
            {"id": 1, "instruction": "Q", "response": "r", "reference": "R"},
            {"id": 2, "instruction": "Q", "response_a": "a", "response_b": "b", "reference": "R"},
        ],
    )
    args = ["judge", "-p", "reference", "-i", str(mixed), "-m", "mock/j"]
    result = runner.invoke(app, [*args, "--db", str(tmp_path / "r.db")])
    assert isinstance(result.exception, InputError) and result.exception.line == 2
    pairs = write_jsonl(
        tmp_path / "pairs.jsonl",
        [{"id": 1, "instruction": "Q", "response_a": "good", "response_b": "b", "reference": "R"}],
    )
    fake = FakeOpenAI(responder=content_judge)
    async with serve(fake) as url:
        ok = await invoke(
            ["judge", "-p", "reference", "-i", str(pairs), *model_args(url, tmp_path)]
        )
    assert ok.exit_code == 0, ok.output
    [row] = [json.loads(line) for line in ok.stdout.splitlines()]
    assert row["protocol"] == "pairwise" and row["reference_guided"] and row["verdict"] == "A"
    assert all("[The Start of Reference Answer]\nR\n" in user_prompt(b) for b in fake.requests)


@pytest.mark.parametrize(
    ("protocol", "row", "shown"),
    [
        ("pairwise", {"id": "1", "instruction": "Q", "response_a": "a", "response_b": "b"},
         "positional consistency │ n/a (no pair has both orders parsed)"),
        ("pointwise", {"id": "1", "instruction": "Q", "response": "r"},
         "mean score │ n/a (no score parsed)"),
    ],
)  # fmt: skip
def test_judge_table_says_n_a_when_nothing_parsed(
    tmp_path: Path, protocol: str, row: dict[str, Any], shown: str
) -> None:
    items = write_jsonl(tmp_path / "i.jsonl", [row])
    args = ["judge", "-p", protocol, "-i", str(items), "-m", "mock/garbage"]
    args += ["-o", str(tmp_path / "v.jsonl"), "--db", str(tmp_path / "r.db")]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    assert shown in " ".join(result.stdout.split())


def test_unknown_protocol_and_bad_scale_are_config_errors(tmp_path: Path) -> None:
    items = write_jsonl(tmp_path / "i.jsonl", [{"id": 1, "instruction": "Q", "response": "r"}])
    base = ["judge", "-i", str(items), "-m", "mock/j", "--db", str(tmp_path / "r.db")]
    assert isinstance(runner.invoke(app, [*base, "-p", "vibes"]).exception, ConfigError)
    bad_scale = runner.invoke(app, [*base, "-p", "pointwise", "--scale", "10-1"])
    assert isinstance(bad_scale.exception, ConfigError)


async def test_judge_checklist_keeps_the_checklist(tmp_path: Path) -> None:
    def tick(body: dict[str, Any]) -> str:
        prompt = user_prompt(body)
        if "Write a checklist" in prompt:
            return "- Is it one sentence?\n- Does it name a colour?"
        return "[[YES]]" if "one sentence?" in prompt else "[[NO]]"

    items = write_jsonl(
        tmp_path / "i.jsonl", [{"id": "x", "instruction": "Describe the sky.", "response": "Vast."}]
    )
    out = tmp_path / "o.jsonl"
    async with serve(FakeOpenAI(responder=tick)) as url:
        result = await invoke(
            [
                *["judge", "-p", "checklist", "-i", str(items), "-o", str(out), "--json"],
                *model_args(url, tmp_path),
            ]
        )
    assert result.exit_code == 0, result.output
    [row] = [json.loads(line) for line in out.read_text().splitlines()]
    assert row["score"] == 0.5
    assert row["checklist"]["questions"] == ["Is it one sentence?", "Does it name a colour?"]
    summary = json.loads(result.stdout)
    assert summary["distribution"] == {"yes": 1, "no": 1, "unparsed": 0}
    assert summary["calls"] == 3


# ------------------------------------------------------------------------------ meta-eval


def test_meta_eval_of_real_llmbar_verdicts_matches_its_statistics() -> None:
    folder = shared_data("llmbar", "Dataset", "LLMBar", "Natural")
    evaluator = folder / "evaluators" / "GPT-4" / "Vanilla"
    result = runner.invoke(
        app,
        [
            *["meta-eval", "--format", "llmbar", "--pairs", str(folder / "dataset.json")],
            *["--verdicts", str(evaluator / "result.json"), "--json"],
        ],
    )
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    stats = read_llmbar_statistics(evaluator / "statistics.json")
    assert report["n"] == stats.n
    assert report["accuracy"] * 100 == pytest.approx(stats.correct_average_percent)
    assert report["positional_agreement"] == pytest.approx(stats.equal / stats.n)
    assert report["meta"]["correct_both"] == stats.correct_both
    assert -1.0 <= report["kappa_vs_gold"] <= 1.0
    table = runner.invoke(
        app,
        ["meta-eval", "-f", "llmbar", "--verdicts", str(evaluator / "result.json")],
    )
    assert table.exit_code == 0 and "positional agreement" in table.stdout
    assert "LLMBar Acc." in table.stdout  # the rule behind the headline number is shown


async def test_meta_eval_with_a_model_runs_both_orders_without_ties_on_llmbar(
    tmp_path: Path,
) -> None:
    dataset = json.loads(
        shared_data("llmbar", "Dataset", "LLMBar", "Natural", "dataset.json").read_text(
            encoding="utf-8"
        )
    )[:4]
    pairs = tmp_path / "dataset.json"
    pairs.write_text(json.dumps(dataset), encoding="utf-8")
    fake = FakeOpenAI(responder=lambda body: "Output (a) is better. [[A]]")
    out = tmp_path / "v.jsonl"
    async with serve(fake) as url:
        result = await invoke(
            [
                *["meta-eval", "-f", "llmbar", "--pairs", str(pairs), "-o", str(out), "--json"],
                *model_args(url, tmp_path),
            ]
        )
    assert result.exit_code == 0, result.output
    assert len(fake.requests) == 8
    assert all("[[C]]" not in b["messages"][0]["content"] for b in fake.requests)
    report = json.loads(result.stdout)
    # Always [[A]]: exactly one order is right for every pair, and the orders never agree.
    assert report["accuracy"] == 0.5 and report["positional_agreement"] == 0.0
    assert report["meta"]["correct_both"] == 0
    assert len(out.read_text().splitlines()) == 4


def test_meta_eval_with_unparseable_verdicts_reports_no_rate(tmp_path: Path) -> None:
    """A judge that never gives a verdict: 8 unparsed, and no accuracy, agreement or kappa."""
    records = [
        {"input": f"Q{i}", "output_1": "one", "output_2": "two", "label": 1 + i % 2}
        for i in range(4)
    ]
    pairs = tmp_path / "dataset.json"
    pairs.write_text(json.dumps(records), encoding="utf-8")
    base = ["meta-eval", "-f", "llmbar", "--pairs", str(pairs), "-m", "mock/garbage"]
    base += ["--db", str(tmp_path / "r.db")]
    result = runner.invoke(app, [*base, "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert (report["unparsed_verdicts"], report["n_verdicts"], report["n_both_parsed"]) == (8, 8, 0)
    for key in ("accuracy", "positional_agreement", "kappa_vs_gold", "kappa_orders"):
        assert report[key] is None, key
    assert report["meta"]["equal"] == 0 and report["meta"]["unparsed_agree"] is False
    table = runner.invoke(app, base)
    assert table.exit_code == 0, table.output
    text = " ".join(table.stdout.split())
    assert "0.0000" not in text and "1.0000" not in text
    assert "n/a (0 of 8 verdicts parsed)" in text
    assert "positional agreement │ n/a (no pair has both orders parsed)" in text
    assert "8 of 8" in text


def test_meta_eval_says_unparsed_verdicts_count_as_wrong(tmp_path: Path) -> None:
    pairs = write_jsonl(
        tmp_path / "p.jsonl",
        [{"id": str(i), "instruction": "Q", "response_a": "x", "response_b": "y", "label": "A"}
         for i in range(2)],
    )  # fmt: skip
    verdicts = write_jsonl(
        tmp_path / "v.jsonl",
        [{"id": "0", "original": "A", "swapped": "A"}, {"id": "1", "original": None,
                                                       "swapped": "A"}],
    )  # fmt: skip
    args = ["meta-eval", "-f", "jsonl", "--pairs", str(pairs), "--verdicts", str(verdicts)]
    result = runner.invoke(app, args, env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    assert "0.5000  (correct in both orders" in result.stdout
    assert "1 unparsed verdicts count as wrong)" in result.stdout
    assert "1.0000  (1 of 1 pairs; over pairs with both orders parsed)" in result.stdout


def test_meta_eval_needs_exactly_one_source(tmp_path: Path) -> None:
    result = runner.invoke(app, ["meta-eval", "-f", "jsonl", "--pairs", "x.jsonl"])
    assert isinstance(result.exception, ConfigError)
    assert "exactly one of --model" in str(result.exception)


def test_meta_eval_jsonl_verdict_for_an_unknown_pair_names_the_line(tmp_path: Path) -> None:
    pairs = write_jsonl(
        tmp_path / "p.jsonl",
        [{"id": "1", "instruction": "Q", "response_a": "x", "response_b": "y", "label": "A"}],
    )
    verdicts = write_jsonl(
        tmp_path / "v.jsonl",
        [
            {"id": "1", "original": "A", "swapped": "A"},
            {"id": "9", "original": "A", "swapped": "B"},
        ],
    )
    result = runner.invoke(
        app, ["meta-eval", "-f", "jsonl", "--pairs", str(pairs), "--verdicts", str(verdicts)]
    )
    assert isinstance(result.exception, InputError)
    assert (result.exception.line, result.exception.field) == (2, "id")


# ------------------------------------------------------------------------------ alt-test


def alt_test_files(tmp_path: Path) -> tuple[Path, Path]:
    rng = random.Random(7)
    truth = {f"i{k}": rng.choice(["pos", "neg"]) for k in range(60)}

    def noisy(p: float) -> dict[str, str]:
        return {
            i: (v if rng.random() > p else ("neg" if v == "pos" else "pos"))
            for i, v in truth.items()
        }

    humans = {"h1": noisy(0.25), "h2": noisy(0.25), "h3": noisy(0.25)}
    llm = noisy(0.05)
    h, m = tmp_path / "humans.json", tmp_path / "llm.json"
    h.write_text(json.dumps(humans), encoding="utf-8")
    m.write_text(json.dumps(llm), encoding="utf-8")
    return h, m


def test_alt_test_json_is_the_library_result(tmp_path: Path) -> None:
    humans, llm = alt_test_files(tmp_path)
    result = runner.invoke(
        app,
        [
            *["alt-test", "--humans", str(humans), "--llm", str(llm), "--epsilon", "skilled"],
            *["--metric", "accuracy", "--json"],
        ],
    )
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout)
    expected = alt_test(*load_alt_test_inputs(humans, llm), epsilon=0.15, metric="accuracy")
    assert out == expected.model_dump(mode="json")
    assert {"winning_rate", "advantage_probability", "passed", "per_annotator"} <= set(out)
    assert out["epsilon"] == 0.15 and len(out["per_annotator"]) == 3
    table = runner.invoke(
        app, ["alt-test", "--humans", str(humans), "--llm", str(llm), "--epsilon", "0.2"]
    )
    assert table.exit_code == 0
    assert ("PASSED" if expected.passed else "FAILED") in table.stdout
    assert "winning rate" in table.stdout and "h1" in table.stdout


def test_alt_test_rmse_and_bad_options(tmp_path: Path) -> None:
    rng = random.Random(3)
    humans = {h: {f"i{k}": rng.randint(1, 5) for k in range(35)} for h in ("a", "b", "c")}
    llm = {f"i{k}": 3 for k in range(35)}
    h, m = tmp_path / "h.json", tmp_path / "m.json"
    h.write_text(json.dumps(humans), encoding="utf-8")
    m.write_text(json.dumps(llm), encoding="utf-8")
    base = ["alt-test", "--humans", str(h), "--llm", str(m)]
    ok = runner.invoke(app, [*base, "--epsilon", "crowd", "--metric", "rmse", "--json"])
    assert ok.exit_code == 0, ok.output
    assert json.loads(ok.stdout)["metric"] == "neg_rmse"
    bad_eps = runner.invoke(app, [*base, "--epsilon", "lots"])
    assert isinstance(bad_eps.exception, ConfigError) and "expert" in str(bad_eps.exception)
    bad_metric = runner.invoke(app, [*base, "--epsilon", "0.1", "--metric", "mae"])
    assert isinstance(bad_metric.exception, ConfigError)
