"""The rendered report's content, from runs made by the real runner with the mock provider:
what a reader sees in the tables, the oracle mark, the traces' data, and escaping."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest

from reflectlab.errors import ConfigError
from reflectlab.model import Model
from reflectlab.report import render_report, report_data, write_report
from reflectlab.report._traces import FLAG_CORRECT, FLAG_ORACLE, FLAG_RIGHT_TO_WRONG
from reflectlab.run import StrategySpec, summarize_stored_run, summary_json
from reflectlab.store import Store
from reflectlab.strategy.self_refine import FEEDBACK_PROMPT

RunMaker = Callable[..., Awaitable[tuple[Store, str]]]
RunFixture = tuple[Store, str]


class _Tables(HTMLParser):
    """Cell texts of each ``<table id=...>`` body, for checking what a reader sees."""

    def __init__(self) -> None:
        super().__init__()
        self.tables: dict[str, list[list[str]]] = {}
        self._table: str | None = None
        self._in_body = False
        self._cell: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "table":
            self._table = dict(attrs).get("id") or ""
            self.tables[self._table] = []
        elif tag == "tbody":
            self._in_body = True
        elif tag == "tr" and self._in_body and self._table is not None:
            self.tables[self._table].append([])
        elif tag in ("td", "th") and self._in_body:
            self._cell = []

    def handle_endtag(self, tag: str) -> None:
        if tag in ("td", "th") and self._cell is not None and self._table is not None:
            self.tables[self._table][-1].append(" ".join("".join(self._cell).split()))
            self._cell = None
        elif tag == "tbody":
            self._in_body = False
        elif tag == "table":
            self._table = None

    def handle_data(self, data: str) -> None:
        if self._cell is not None:
            self._cell.append(data)


def table_rows(html: str, table_id: str) -> list[list[str]]:
    parser = _Tables()
    parser.feed(html)
    return parser.tables[table_id]


def result_of(
    data: dict[str, Any], strategy: str, sample_id: str
) -> tuple[list[Any], dict[str, Any], list[str]]:
    """(index row, trace entry, string table) of one (strategy, sample) in a decoded report."""
    index = data["index"]
    s = index["strategies"].index(strategy)
    i = [x[0] for x in index["samples"]].index(sample_id)
    row = next(r for r in index["rows"] if r[0] == s and r[1] == i)
    chunk = data["chunks"][row[7]]
    return row, chunk["results"][f"{s}:{i}"], chunk["strings"]


async def test_summary_table_is_show_json(oracle_run: RunFixture) -> None:
    store, run_id = oracle_run
    html = render_report(store, run_id)
    run, summary = summarize_stored_run(store, run_id)
    assert report_data(html)["summary"] == json.loads(json.dumps(summary_json(run, summary)))
    rows = {r[0]: r for r in table_rows(html, "summary-table")}
    assert set(rows) == {s.name for s in summary.strategies} and len(rows) == 9
    for s in summary.strategies:
        assert rows[s.name][2] == str(s.n)
        assert rows[s.name][3] == f"{s.accuracy:.3f}"
        assert rows[s.name][4] == f"[{s.ci_low:.3f}, {s.ci_high:.3f}]"
    # The solver's script: direct gets the even questions; self_refine fixes q1, breaks q2.
    assert rows["direct"][3] == "0.500"
    assert rows["self_refine"][5] == "0.50 → 0.50"
    assert rows["self_refine"][6] == "1/1 | 1/1"
    assert rows["self_refine:feedback=oracle"][3] == "0.667"
    findings = " ".join(r for r in html.split("\n") if "reflection broke" in r)
    assert (
        "self_refine: from first draft to final answer, reflection broke 1 right answer" in findings
    )
    flips = table_rows(html, "flips-table")
    assert ["self_refine", "0→1", "6", "6", "2", "1", "1", "2", "+0"] in flips


async def test_comparisons_show_the_verdict_sentences(oracle_run: RunFixture) -> None:
    store, run_id = oracle_run
    html = render_report(store, run_id)
    _, summary = summarize_stored_run(store, run_id)
    rows = table_rows(html, "comparisons-table")
    assert len(rows) == len(summary.comparisons) == 8
    for c in summary.comparisons:
        assert c.verdict.replace('"', "&#34;") in html or c.verdict in html
    oracle_rows = [r for r in rows if r[0] == "self_refine:feedback=oracle"]
    assert oracle_rows and all(r[-1] == "ORACLE-ASSISTED" for r in oracle_rows)


async def test_oracle_feedback_is_marked_and_plain_runs_are_not(
    oracle_run: RunFixture, make_run: RunMaker
) -> None:
    store, run_id = oracle_run
    html = render_report(store, run_id)
    assert 'id="oracle-banner"' in html and "A gold label reached a prompt" in html
    assert "gold label used as feedback in round N (6)" in html
    provenance = {r[0]: r[1] for r in table_rows(html, "summary-table")}
    assert provenance["self_refine:feedback=oracle"] == "ORACLE-ASSISTED"
    assert provenance["self_refine"] == "intrinsic" and provenance["direct"] == "none"
    row, trace, _ = result_of(report_data(html), "self_refine:feedback=oracle", "q1")
    assert row[3] & FLAG_ORACLE and trace["oracle"] == ["gold label used as feedback in round 1"]

    store, plain_id = await make_run("direct", "self_refine")
    plain = render_report(store, plain_id)
    assert 'id="oracle-banner"' not in plain and "A gold label reached a prompt" not in plain
    assert all(r[1] != "ORACLE-ASSISTED" for r in table_rows(plain, "summary-table"))


async def test_trace_holds_every_step_in_order(oracle_run: RunFixture) -> None:
    store, run_id = oracle_run
    data = report_data(render_report(store, run_id))
    row, trace, strings = result_of(data, "self_refine", "q2")
    assert row[2] == "10" and row[3] & FLAG_RIGHT_TO_WRONG and not row[3] & FLAG_CORRECT
    steps = trace["steps"]
    assert [(st["t"], st.get("role"), st.get("round")) for st in steps] == [
        ("call", "draft", 0),
        ("cp", None, 0),
        ("call", "feedback", 1),
        ("call", "refine", 1),
        ("cp", None, 1),
    ]
    assert steps[0]["hit"] is True  # the draft is direct's request, served from the cache
    assert strings[steps[2]["msgs"][-1][1]] == FEEDBACK_PROMPT
    assert steps[2]["fb"] == [0] and trace["feedback"][0]["kind"] == "intrinsic"
    assert (steps[1]["ans"], steps[1]["ok"], steps[4]["ans"], steps[4]["ok"]) == (
        "4",
        True,
        "5",
        False,
    )
    # Message for message and token for token, the trace is the call log.
    stored = next(
        r for r in store.results(run_id) if (r.strategy, r.sample_id) == ("self_refine", "q2")
    )
    log = {c.call_id: c for c in store.calls(run_id=run_id)}
    calls = [st for st in steps if st["t"] == "call"]
    for step, call_id in zip(calls, stored.detail["call_ids"], strict=True):
        event = log[call_id]
        assert [[r, strings[k]] for r, k in step["msgs"]] == [
            [m.role, m.content] for m in event.messages
        ]
        assert [strings[k] for k in step["out"]] == event.choices
        assert (step["pt"], step["ct"]) == (
            event.usage.prompt_tokens,
            event.usage.completion_tokens,
        )


async def test_oracle_feedback_sits_before_the_call_that_reads_it(oracle_run: RunFixture) -> None:
    store, run_id = oracle_run
    data = report_data(render_report(store, run_id))
    _, wrong_first, strings = result_of(data, "self_refine:feedback=oracle", "q1")
    assert [(st["t"], st.get("round")) for st in wrong_first["steps"]] == [
        ("call", 0),
        ("cp", 0),
        ("fb", None),
        ("call", 1),
        ("cp", 1),
    ]
    feedback = wrong_first["feedback"][wrong_first["steps"][2]["fb"]]
    assert feedback["kind"] == "oracle" and feedback["verdict"] == "incorrect"
    assert strings[feedback["text"]].startswith("Your answer is incorrect")
    # Right at once: the oracle says so and the strategy stops; its feedback ends the trace.
    _, right_first, _ = result_of(data, "self_refine:feedback=oracle", "q0")
    assert [st["t"] for st in right_first["steps"]] == ["call", "cp", "fb"]


async def test_model_text_is_data_never_markup(make_run: RunMaker) -> None:
    label = 'direct</script><script>alert("label")</script>'
    store, run_id = await make_run("self_refine", StrategySpec(name="direct", label=label))
    html = render_report(store, run_id)
    # Nothing the model, the task or the user wrote can open an element in the page.
    assert "<script>alert" not in html and "<img src=x" not in html
    assert "direct&lt;/script&gt;&lt;script&gt;alert(&#34;label&#34;)&lt;/script&gt;" in html
    data = report_data(html)
    assert {s["name"] for s in data["summary"]["strategies"]} == {label, "self_refine"}
    # ...and the viewer gets the exact text, to show with textContent.
    _, trace, strings = result_of(data, "self_refine", "q3")
    replies = [strings[k] for st in trace["steps"] if st["t"] == "call" for k in st["out"]]
    assert any('<img src=x onerror="window.__pwned=1">' in r for r in replies)
    assert any('<script>alert("input")</script>' in s[1] for s in data["index"]["samples"])


async def test_rendering_reads_the_store_only(
    oracle_run: RunFixture, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    store, run_id = oracle_run

    async def no_model(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("the report called a model")

    monkeypatch.setattr(Model, "generate", no_model)
    count = "SELECT (SELECT COUNT(*) FROM calls), (SELECT COUNT(*) FROM cache)"
    before = store.db.execute(count).fetchone()
    first = render_report(store, run_id)
    path = write_report(store, run_id[:15], tmp_path / "nested" / "r.html")
    assert path.read_text(encoding="utf-8") == first  # deterministic; a prefix is enough
    assert store.db.execute(count).fetchone() == before
    with pytest.raises(ConfigError, match="no run 'nope'"):
        render_report(store, "nope")


async def test_unfinished_run_says_so(oracle_run: RunFixture) -> None:
    store, run_id = oracle_run
    store.set_run_status(run_id, "interrupted")
    html = render_report(store, run_id)
    assert "The run is interrupted (54 of 54 results)" in html
