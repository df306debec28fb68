"""At 80 columns every table line fits and no word is broken into fragments."""

from __future__ import annotations

import dataclasses
import re

from typer.testing import CliRunner

from reflectlab.cli import app
from reflectlab.strategy import list_strategies
from reflectlab.task import list_tasks

runner = CliRunner()


def _words(*texts: str) -> set[str]:
    words = (w.rstrip(".:") for text in texts for w in re.split(r"[\s,;()]+", text))
    return {w for w in words if w}


def _fragments(output: str, vocabulary: set[str]) -> list[str]:
    """Tokens of ``output`` that are not whole words of ``vocabulary``: a token cut with "…"
    must be a prefix of a word ending at a word or hyphen boundary."""
    bad = []
    for token in _words(output):
        if set(token) <= set("─━-"):
            continue
        if token.endswith("…"):
            stem = token[:-1]
            if not any(
                w == stem or (w.startswith(stem) and stem.endswith("-")) for w in vocabulary
            ):
                bad.append(token)
        elif token not in vocabulary:
            bad.append(token)
    return bad


def _table_part(output: str) -> str:
    """The table, without the explanatory sentences after it (ordinary wrapped prose)."""
    return output.split("\nfeedback:")[0].split("\ncheck:")[0]


def test_strategies_table_fits_80_columns_without_broken_words() -> None:
    result = runner.invoke(app, ["strategies"], env={"COLUMNS": "80"})
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert max(len(line) for line in lines) <= 80
    infos = list_strategies()
    vocabulary = _words(
        "strategies name year paper feedback",
        *(f"{i.name} {i.year} {i.paper} {' '.join(i.feedback)}" for i in infos),
    )
    vocabulary |= {",".join(i.feedback) for i in infos}  # feedback kinds are joined by ","
    assert _fragments(_table_part(result.stdout), vocabulary) == []
    # one line per strategy: name, year, feedback on it
    rows = {line.split()[0]: line for line in lines if line.strip()}
    assert "2023" in rows["self_refine"] and "Self-Refine" in rows["self_refine"]
    assert rows["self_refine"].rstrip().endswith("intrinsic,critic,tool,oracle")


def test_strategies_table_at_120_columns_names_the_first_author() -> None:
    result = runner.invoke(app, ["strategies"], env={"COLUMNS": "120"})
    assert result.exit_code == 0, result.output
    assert max(len(line) for line in result.stdout.splitlines()) <= 120
    assert "Shinn, Reflexion" in result.stdout


def test_tasks_table_fits_80_columns_without_broken_words() -> None:
    result = runner.invoke(app, ["tasks"], env={"COLUMNS": "80"})
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert max(len(line) for line in lines) <= 80
    infos = list_tasks()
    vocabulary = _words(
        "tasks name answer check description",
        *(" ".join(str(v) for v in dataclasses.asdict(i).values()) for i in infos),
    )
    assert _fragments(_table_part(result.stdout), vocabulary) == []
    rows = {line.split()[0]: line for line in lines if line.strip()}
    assert rows["humaneval"].split()[1:3] == ["code", "label-free"]
