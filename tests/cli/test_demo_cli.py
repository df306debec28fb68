"""`reflectlab demo` with a scripted mock model: the table, findings from the run's numbers,
and the next commands printed whole."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from reflectlab.cli import app
from reflectlab.cli.demo import DEMO_ITEMS, findings
from reflectlab.model.providers.mock import MockRequest
from reflectlab.run import summarize_stored_run
from reflectlab.store import Store

runner = CliRunner()


def solver(request: MockRequest) -> str:
    """Right at first when a + b is even; a self-critique always doubts, and the revision
    is then wrong where the draft was right, right where it was wrong (one of each kind)."""
    question = request.messages[0].content
    a, op, b = re.search(r"What is (\d+) ([-+*]) (\d+)", question).groups()  # type: ignore[union-attr]
    x, y = int(a), int(b)
    right = {"+": x + y, "-": x - y, "*": x * y}[op]
    last = request.messages[-1].content
    draft_right = (x + y) % 2 == 0
    if last.startswith("Review your answer"):
        return "This looks wrong. [[INCORRECT]]"
    if len(request.messages) > 1:  # a revision (intrinsic or oracle feedback)
        return f"Answer: {right + 1 if draft_right else right}"
    return f"Answer: {right if draft_right else right + 1}"


@pytest.fixture
def scripted(monkeypatch: pytest.MonkeyPatch) -> None:
    from reflectlab.model.providers import mock

    original = mock.MockAPI.__init__

    def init(self: mock.MockAPI, model_name: str, **kw: object) -> None:
        kw.setdefault("outputs", solver)
        original(self, model_name, **kw)  # type: ignore[arg-type]

    monkeypatch.setattr(mock.MockAPI, "__init__", init)


def test_demo_items_ship_with_the_package() -> None:
    lines = DEMO_ITEMS.read_text(encoding="utf-8").splitlines()
    assert len(lines) == 24 and all('"question": "What is' in line for line in lines)


def test_demo_teaches_from_its_own_numbers(tmp_path: Path, scripted: None) -> None:
    db = tmp_path / "d.db"
    result = runner.invoke(
        app, ["demo", "--model", "mock/m", "--db", str(db)], env={"COLUMNS": "80"}
    )
    assert result.exit_code == 0, result.output
    out = result.stdout
    store = Store(db)
    run_id = store.list_runs(1)[0].run_id
    _, summary = summarize_stored_run(store, run_id)
    rows = {row.name: row for row in summary.strategies}
    intrinsic = rows["self_refine"].flips_total
    assert intrinsic.right_wrong > 0  # the script breaks right answers...
    assert (
        f"self_refine broke {intrinsic.right_wrong} right answers and fixed "
        f"{intrinsic.wrong_right}" in out
    )
    # ...and the sentences are the run's numbers, not fixed text
    assert " ".join(" ".join(findings(summary)).split()) in " ".join(out.split())
    assert "ORACLE-ASSISTED" in out
    assert {"retry@self_refine", "retry@self_refine:feedback=oracle"} <= set(rows)
    assert "With the same calls per question" in out
    table = out.split("What this run showed")[0]
    assert max(len(line) for line in table.splitlines()) <= 80
    # next commands: each on one line, whole, even past 80 columns
    lines = out.splitlines()
    assert any(
        line.strip().startswith("reflectlab run --task arith --strategy direct,self_refine,")
        and line.rstrip().endswith("--limit 200")
        for line in lines
    )
    assert f"  reflectlab report {run_id} -o report.html" in out
