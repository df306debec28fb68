"""`reflectlab judge --protocol self-taught | checkeval | criticbench` through the real CLI, with
an OpenAI-compatible fake server scripted from the prompt."""

from __future__ import annotations

import asyncio
import json
import re
from pathlib import Path
from typing import Any

from typer.testing import CliRunner, Result

from reflectlab._util.fake_openai import FakeOpenAI
from reflectlab.cli import app
from reflectlab.errors import ConfigError
from support.servers import serve

runner = CliRunner()
_ANSWER = re.compile(
    r"\[The Start of Assistant (A|B)'s Answer\]\n(.*?)\n\[The End of Assistant \1's Answer\]", re.S
)


def user_prompt(body: dict[str, Any]) -> str:
    return str(next(m["content"] for m in reversed(body["messages"]) if m["role"] == "user"))


def write_jsonl(path: Path, rows: list[dict[str, Any]]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


async def invoke(args: list[str]) -> Result:
    return await asyncio.to_thread(runner.invoke, app, args)


def model_args(url: str, tmp_path: Path) -> list[str]:
    return ["--model", "openai/fake", "--base-url", url, "--db", str(tmp_path / "r.db")]


async def test_self_taught_protocol_runs_both_orders_with_its_prompt(tmp_path: Path) -> None:
    def judge(body: dict[str, Any]) -> str:
        assert body["messages"][0]["content"].startswith("Please act as an impartial judge")
        shown = dict(_ANSWER.findall(user_prompt(body)))
        return "[[A]]" if shown["A"] == "good" else "[[B]]" if shown["B"] == "good" else "[[C]]"

    items = write_jsonl(
        tmp_path / "pairs.jsonl",
        [
            {"id": 1, "instruction": "q", "response_a": "good", "response_b": "bad"},
            {"id": 2, "instruction": "q", "response_a": "meh", "response_b": "bad"},
        ],
    )
    fake = FakeOpenAI(responder=judge)
    async with serve(fake) as url:
        result = await invoke(
            ["judge", "-p", "self-taught", "-i", str(items), "--json", *model_args(url, tmp_path)]
        )
    assert result.exit_code == 0, result.output
    assert len(fake.requests) == 4
    rows = [json.loads(line) for line in result.stdout.splitlines()]
    assert [r["verdict"] for r in rows] == ["A", None]  # [[C]]: no tie offered, unparseable
    assert rows[0]["prompt"] == "self-taught"
    summary = json.loads(result.stderr)
    assert summary["unparseable"] == 1 and summary["distribution"]["unparseable"] == 1


async def test_checkeval_protocol_scores_each_dimension(tmp_path: Path) -> None:
    def judge(body: dict[str, Any]) -> str:
        prompt = user_prompt(body)
        n = len(re.findall(r"^Q\d+: ", prompt.split("# Questions # \n")[1], re.M))
        word = (
            "Yes" if prompt.startswith("### Task Overview") and "coherence - " in prompt else "No"
        )
        return "\n".join(f"Q{i}: {word}" for i in range(1, n + 1))

    items = write_jsonl(
        tmp_path / "items.jsonl", [{"id": "s1", "instruction": "article", "response": "summary"}]
    )
    fake = FakeOpenAI(responder=judge)
    async with serve(fake) as url:
        result = await invoke(
            [
                *["judge", "-p", "checkeval", "-i", str(items), "--json"],
                *["--dimension", "coherence", "--dimension", "fluency"],
                *["--checkeval-version", "seed", *model_args(url, tmp_path)],
            ]
        )
    assert result.exit_code == 0, result.output
    assert len(fake.requests) == 3 + 4  # one call per sub-aspect (seed: 3 and 4)
    [row] = [json.loads(line) for line in result.stdout.splitlines()]
    assert row["dimensions"]["coherence"]["score"] == 1.0
    assert row["dimensions"]["fluency"]["score"] == 0.0
    summary = json.loads(result.stderr)
    assert summary["dimension_means"] == {"coherence": 1.0, "fluency": 0.0}


async def test_checkeval_bad_dimension_fails_before_any_call(tmp_path: Path) -> None:
    items = write_jsonl(tmp_path / "i.jsonl", [{"id": 1, "instruction": "a", "response": "s"}])
    fake = FakeOpenAI(responder=lambda body: "Q1: Yes")
    async with serve(fake) as url:
        result = await invoke(
            [
                *["judge", "-p", "checkeval", "-i", str(items), "--dimension", "wit"],
                *model_args(url, tmp_path),
            ]
        )
    assert result.exit_code != 0 and fake.requests == []
    assert isinstance(result.exception, ConfigError)
    assert "no CheckEval checklist for 'wit'" in str(result.exception)


async def test_criticbench_protocol_prints_per_stage_scores(tmp_path: Path) -> None:
    def model(body: dict[str, Any]) -> str:
        prompt = user_prompt(body)
        if prompt.endswith("Improved Answer:"):
            return "The answer is [[8]]."
        if prompt.endswith("Verdict:"):
            return "So the verdict is: [[wrong]]"
        return "23 - 15 = 8. The answer is 8."

    items = write_jsonl(
        tmp_path / "cb.jsonl",
        [
            {
                "id": 0,
                "question": "Olivia has $23 and spends $15. How much is left?",
                "response": "23 + 15 = 38. The answer is 38.",
                "response_label": False,
                "answer": ["8"],
                "question_source": "GSM8K",
            }
        ],
    )
    fake = FakeOpenAI(responder=model)
    out = tmp_path / "out.jsonl"
    async with serve(fake) as url:
        result = await invoke(
            [
                *["judge", "-p", "criticbench", "-i", str(items), "-o", str(out), "--json"],
                *model_args(url, tmp_path),
            ]
        )
    assert result.exit_code == 0, result.output
    assert len(fake.requests) == 3
    summary = json.loads(result.stdout)
    assert summary["generation_accuracy"] == 1.0
    assert summary["critique_accuracy"] == 1.0 and summary["critique_f1"] == 1.0
    assert summary["correction_accuracy"] == 1.0 and summary["n_errors"] == 0
    [row] = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert row["critique_verdict"] == "wrong" and row["correction_answer"] == "8"
