"""Every prompt template of every strategy is overridable (issue 11).

- statically: each template ``reflectlab strategies show NAME`` lists is read through
  ``ctx.prompt("NAME", NAME)`` (so a new strategy that forgets to is caught here);
- without an override nothing changes: the request hashes (the cache keys) of a run with an
  empty ``prompts={}`` are those of a plain run;
- an override of one template changes exactly the calls that send it: with a marker appended
  to the template, removing the marker from every call gives back the default run's calls,
  and the marker reaches at least one call.

The scripted model answers by call number, never by prompt, so a run with an override makes
the same calls in the same order as the default run.
"""

from __future__ import annotations

import importlib
import sys
from pathlib import Path
from typing import Any

import pytest

from reflectlab.errors import ConfigError
from reflectlab.model import CallEvent, MemoryCache, capture_calls, get_model
from reflectlab.model.providers.mock import MockRequest
from reflectlab.strategy import (
    OfflineContext,
    StrategyContext,
    get_strategy,
    list_strategies,
    run_strategy,
    strategy_info,
)
from reflectlab.strategy._prompts import overridable, resolve_prompts, templates
from reflectlab.strategy._registry import _REGISTRY
from reflectlab.task import Sample
from support.numbers import NumberTask

MARK = " # \u27e6override\u27e7"

#: A reply that keeps every loop going and feeds every parser something: steps, a numbered
#: list of questions, a JSON ruling without a decision, negative verdicts of every format, a
#: decision to refresh, and an answer that differs on every call.
BUSY = (
    "Step 1: add the numbers.\nStep 2: check the sum.\n"
    "1. Is the first step right?\n2. Is the second step right?\n"
    "Question 1: What is 2+3?\nAnswer 1: 5\n"
    '{{"Whether there is a preference": "No", "Supported Side": "Affirmative", '
    '"Reason": "r", "debate_answer": "Answer: {n}"}}\n'
    "Step 1 is incorrect. [[INCORRECT]] [[NO]] [[INCONSISTENT]] [[REFRESH]] Correct: no "
    "Score: 5\nAnswer: {n}"
)
#: A reply with no verdict at all (the "could not be confirmed" branches).
PLAIN = "Answer: {n}"
#: BUSY with a verification program that always fails (run in the sandbox).
PROGRAM = BUSY.replace(
    "\nAnswer: {n}",
    "\n```python\ndef verify(answer, response):\n    return False\n```\nAnswer: {n}",
)

#: The same answer on every call (the "answers agree" branches).
SAME = "Answer: 5"

#: A sub-question step (rot's search): not final, so the forced last step follows; its
#: answer is the call's number, so leaves differ and one is right (rot's training target 5).
TREE = "Question 3.1: What is {n} halved?\nAnswer 3.1: The answer is {n}."

SCRIPTS = {"busy": BUSY, "plain": PLAIN, "program": PROGRAM, "same": SAME, "tree": TREE}

#: Parameter sets (and script) per strategy that together send every template.
CONFIGS: dict[str, list[tuple[dict[str, Any], str]]] = {
    "best_of_n": [({"n": 2}, "busy")],
    "chain_of_verification": [
        ({"mode": m, "max_questions": 2}, "busy")
        for m in ("joint", "two_step", "factored", "factor_revise")
    ],
    "cot": [({}, "busy")],
    "cqot": [({"max_resamples": 1}, "busy")],
    "critic": [
        ({"max_rounds": 1, "use_tool": False}, "busy"),
        ({"max_rounds": 1, "tool": "calculator"}, "busy"),
        ({"max_rounds": 1, "tool": "check"}, "busy"),
        ({"max_rounds": 1, "tool": "python"}, "program"),
    ],
    "critic_cot": [
        ({"max_rounds": 2}, "busy"),
        ({"mode": "filter", "n": 2}, "busy"),
        ({"max_rounds": 1, "feedback": "critic"}, "busy"),
    ],
    "debate": [({"agents": 2, "rounds": 1}, "busy"), ({"agents": 1, "rounds": 1}, "busy")],
    "decrim": [
        ({"max_rounds": 1}, "busy"),
        ({"max_rounds": 1, "feedback": "critic"}, "busy"),
        ({"max_rounds": 1, "feedback": "tool"}, "busy"),
    ],
    "dialectic": [({"max_rounds": 1}, "busy")],
    "direct": [({}, "busy")],
    "dual_model": [({"max_rounds": 1}, "busy")],
    "iort": [({"max_rounds": 2}, "busy"), ({"max_rounds": 2}, "same")],
    "mad": [({"max_rounds": 2}, "busy")],
    "multiplex_cot": [({}, "busy"), ({"mode": "one_call"}, "busy")],
    "progco": [
        ({"max_rounds": 1}, "busy"),
        ({"max_rounds": 1}, "program"),
        ({"max_rounds": 1, "dual_reflection": False}, "program"),
    ],
    "reap": [({}, "busy")],
    "reflexion": [
        ({"max_rounds": 1}, "busy"),
        ({"max_rounds": 1}, "plain"),
        ({"max_rounds": 1, "feedback": "critic"}, "busy"),
    ],
    "retry": [({"max_rounds": 1}, "busy"), ({"max_rounds": 1, "feedback": "critic"}, "busy")],
    "rot": [
        ({"width": 2, "iterations": 2, "depth": 2}, "tree"),
        ({"width": 2, "iterations": 2, "depth": 2, "feedback": "critic"}, "tree"),
    ],
    "self_consistency": [({"n": 2}, "busy")],
    "self_contrast": [
        ({"perspectives": 2}, "busy"),
        ({"perspectives": 3, "contrast": "all"}, "plain"),
    ],
    "self_correct": [({"rounds": 1}, "busy")],
    "self_refine": [({"max_rounds": 1}, "busy"), ({"max_rounds": 1, "feedback": "critic"}, "busy")],
    "self_verification": [
        ({"n": 2, "verify_samples": 1, "max_conditions": 1}, "busy"),
    ],
    "stick": [
        ({"max_rounds": 1, "max_questions": 2}, "busy"),
        ({"mode": "best_of_n", "n": 2, "max_questions": 2}, "busy"),
        ({"max_rounds": 1, "max_questions": 2, "feedback": "critic"}, "busy"),
    ],
}

#: Templates that are read through ctx.prompt but never reach a model, with why.
NOT_SENT = {
    ("progco", "HARNESS"): "Python appended to the model's program, run in the sandbox",
    # (and ends the fallback statement after an empty rewrite, which these scripts never give)
    ("self_verification", "ANSWER_TRIGGER"): "reads the verifier's replies",
}

STRATEGIES = [info.name for info in list_strategies()]


def _ctx(script: str) -> StrategyContext:
    """A numeric sample with a label-free check, a scripted solver and a scripted critic."""
    task = NumberTask(
        [
            Sample(
                id="0", input="Tom has 2 apples and buys 3 more. How many has he now?", target="5"
            )
        ],
        with_check=True,
    )

    def model(name: str) -> Any:
        def reply(request: MockRequest) -> str:
            return SCRIPTS[script].format(n=request.call_number + 1)

        return get_model(f"mock/{name}", outputs=reply, cache=MemoryCache())

    return StrategyContext(
        model=model("solver"), critic=model("critic"), task=task, sample=task.samples()[0]
    )


async def calls_of(name: str, params: dict[str, Any], script: str) -> list[CallEvent]:
    """The calls of one run of strategy ``name`` (``params`` may hold ``prompts``), its
    offline stage first if it has one (on one training sample whose answer is 5)."""
    ctx = _ctx(script)
    info = strategy_info(name)
    with capture_calls() as calls:
        resolved = info.validate(params)
        if info.offline is not None and info.needs_training(resolved):
            train = Sample(
                id="t", input="Ann has 1 apple and gets 3 more. How many now?", target="5"
            )
            octx = OfflineContext(
                model=ctx.model,
                critic=ctx.critic,
                task=NumberTask([train]),
                train=[train],
                prompts=resolve_prompts(name, info.factory, params.get("prompts")),
            )
            prepared = await info.offline.run(octx, resolved)
            params = {**params, **prepared.params}
        await run_strategy(get_strategy(name, **params), ctx)
    events: list[CallEvent] = calls
    return events


def _view(call: CallEvent, strip: bool = False) -> tuple[Any, ...]:
    def text(s: str) -> str:
        return s.replace(MARK, "") if strip else s

    return (
        call.model,
        call.role,
        call.round,
        tuple((m.role, text(m.content)) for m in call.messages),
        call.config.model_dump_json(),
    )


def _sends(call: CallEvent) -> bool:
    return any(MARK in m.content for m in call.messages)


def test_every_strategy_has_configs() -> None:
    assert sorted(CONFIGS) == sorted(STRATEGIES)


@pytest.mark.parametrize("name", STRATEGIES)
def test_every_listed_template_is_overridable(name: str) -> None:
    factory = next(i for i in list_strategies() if i.name == name).factory
    missing = set(templates(factory)) - overridable(factory)
    assert not missing, f"{name} does not read {sorted(missing)} through ctx.prompt"


@pytest.mark.parametrize("name", STRATEGIES)
async def test_an_empty_override_changes_no_request(name: str) -> None:
    for params, script in CONFIGS[name]:
        plain = await calls_of(name, params, script)
        empty = await calls_of(name, {**params, "prompts": {}}, script)
        assert plain, f"{name} {params} made no call"
        assert [c.request_hash for c in empty] == [c.request_hash for c in plain]


@pytest.mark.parametrize("name", STRATEGIES)
async def test_an_override_changes_exactly_the_calls_that_send_it(name: str) -> None:
    factory = next(i for i in list_strategies() if i.name == name).factory
    defaults = {
        params_key: await calls_of(name, params, script)
        for params_key, (params, script) in enumerate(CONFIGS[name])
    }
    for key, default in templates(factory).items():
        sent = 0
        for i, (params, script) in enumerate(CONFIGS[name]):
            override = {**params, "prompts": {key: default + MARK}}
            calls = await calls_of(name, override, script)
            base = defaults[i]
            assert len(calls) == len(base), f"{name} {key} {params}: the flow changed"
            for new, old in zip(calls, base, strict=True):
                assert _view(new, strip=True) == _view(old), f"{name} {key} {params}"
                assert (new.request_hash != old.request_hash) == _sends(new)
            sent += sum(_sends(c) for c in calls)
        if (name, key) in NOT_SENT:
            assert not sent
        else:
            assert sent, f"{name}: no call sent {key} (extend CONFIGS to exercise it)"


async def test_the_harness_override_is_what_the_sandbox_runs() -> None:
    """progco's HARNESS reaches no model; overridden, it decides the verdict of the program."""
    params: dict[str, Any] = {"max_rounds": 1}
    default = await calls_of("progco", params, "program")
    always_pass = {"HARNESS": '\nprint("VERDICT: PASS")\n'}
    passed = await calls_of("progco", {**params, "prompts": always_pass}, "program")
    assert any(c.role == "refine" for c in default)
    assert [c.role for c in passed] == ["draft", "verify"]  # verified: nothing to refine


def test_the_answer_trigger_override_is_what_reads_the_verifier() -> None:
    from reflectlab.strategy.self_verification import recovered_value

    assert recovered_value("The answer is 3, not 4") == 3.0
    assert recovered_value("X equals 3, not 4", "X equals") == 3.0


def test_a_strategy_that_forgets_ctx_prompt_is_caught(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The static check (and the override refusal) on a strategy that formats its template
    directly."""
    source = (
        "from reflectlab.strategy._registry import strategy\n"
        "from reflectlab.strategy._primitives import Conversation, ask\n\n"
        'ASK_PROMPT = "Solve: {question}"\n\n\n'
        '@strategy(name="_forgetful_test", paper="none", year=None)\n'
        "def forgetful():\n"
        "    async def run(ctx):\n"
        "        text = ASK_PROMPT.format(question=ctx.sample.input)\n"
        "        convo = Conversation.start(ctx, prompt=text)\n"
        '        return await ask(ctx, convo, role="draft", round=0)\n'
        "    return run\n"
    )
    (tmp_path / "_forgetful_strategy.py").write_text(source, encoding="utf-8")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.delitem(sys.modules, "_forgetful_strategy", raising=False)
    try:
        module = importlib.import_module("_forgetful_strategy")
        assert set(templates(module.forgetful)) - overridable(module.forgetful) == {"ASK_PROMPT"}
        with pytest.raises(ConfigError, match=r"does not read 'ASK_PROMPT' through ctx\.prompt"):
            get_strategy("_forgetful_test", prompts={"ASK_PROMPT": "x"})
    finally:
        _REGISTRY.pop("_forgetful_test", None)
        sys.modules.pop("_forgetful_strategy", None)
