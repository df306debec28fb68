"""Every call's sampling parameters reach the trace data as logged (null: server default)."""

from __future__ import annotations

import json
from typing import Any

from reflectlab.report import render_report, report_data
from reflectlab.report._steps import Chunk, _call_step


def test_a_calls_config_is_kept_whole_and_interned() -> None:
    chunk = Chunk()
    config = {"temperature": 0.7, "max_tokens": 64, "seed": 3, "n": 2, "stop": ["\n\n"]}
    config["top_p"] = None
    steps = [_call_step({"config": dict(config), "choices": ["a"]}, chunk) for _ in range(3)]
    assert len({step["cfg"] for step in steps}) == 1  # one string per block, however many calls
    assert json.loads(chunk.strings[steps[0]["cfg"]]) == config
    assert "cfg" not in _call_step({"choices": ["a"]}, chunk)  # an old log without a config


async def test_a_runs_sampling_parameters_are_on_every_call(make_run: Any) -> None:
    store, run_id = await make_run("self_refine", temperature=0.7, max_tokens=64, seed=5)
    data = report_data(render_report(store, run_id))
    configs = [
        json.loads(chunk["strings"][step["cfg"]])
        for chunk in data["chunks"]
        for result in chunk["results"].values()
        for step in result["steps"]
        if step["t"] == "call"
    ]
    assert len(configs) == 6 * 3
    assert all(c["temperature"] == 0.7 and c["max_tokens"] == 64 and c["n"] == 1 for c in configs)
    assert all("seed" in c and "stop" in c for c in configs)
