"""Resolving task specs, option validation and the task list."""

from __future__ import annotations

import pytest

from reflectlab.errors import ConfigError
from reflectlab.task import ArithTask, KnightsTask, Task, get_task, list_tasks


def test_builtin_names_and_options() -> None:
    task = get_task("arith", seed=2, n=7, level=2)
    assert isinstance(task, ArithTask) and len(task.samples()) == 7
    assert {s.metadata["level"] for s in task.samples()} == {2}
    # Options from the CLI arrive as strings.
    assert len(get_task(" Knights ", n="4").samples()) == 4
    assert isinstance(get_task("knights", n=1), KnightsTask)


@pytest.mark.parametrize(
    ("spec", "options", "message"),
    [
        ("arithmetic", {}, "unknown task 'arithmetic'; built-in: arith, knights"),
        ("gsm8k", {}, "task 'gsm8k' reads a file: use gsm8k:PATH"),
        ("arith:foo.jsonl", {}, "task 'arith' is generated, it takes no file"),
        ("xlsx:foo.xlsx", {}, "unknown task kind 'xlsx'"),
        ("jsonl:", {}, "missing the file path"),
        ("arith", {"levle": 2}, "unknown option 'levle' \\(options: level, n, seed\\)"),
        ("arith", {"level": 4}, "option 'level': Input should be less than or equal to 3"),
        ("knights", {"people": 9}, "option 'people'"),
        ("code", {"n": 0}, "option 'n'"),
        ("constraints", {"min_constraints": 4, "max_constraints": 2}, "min_constraints 4 >"),
    ],
)
def test_bad_specs_and_options_are_config_errors(
    spec: str, options: dict[str, object], message: str
) -> None:
    with pytest.raises(ConfigError, match=message):
        get_task(spec, **options)


def test_list_tasks_covers_every_kind_with_usage() -> None:
    infos = {info.name: info for info in list_tasks()}
    assert list(infos)[:4] == ["arith", "knights", "constraints", "code"]
    assert {"gsm8k", "humaneval", "ifeval", "jsonl", "csv", "hf"} <= set(infos)
    assert infos["gsm8k"].file_based and infos["gsm8k"].usage.startswith("gsm8k:")
    assert not infos["arith"].file_based and "seed" in infos["arith"].options
    assert infos["arith"].answer_kind == "number"
    for name in ("arith", "knights", "constraints", "code"):
        task: Task = get_task(name, n=1)
        assert task.answer_kind == infos[name].answer_kind
        assert task.describe()["name"] == name


def test_every_task_declares_its_check_and_the_list_shows_it() -> None:
    checks = {info.name: info.check for info in list_tasks()}
    # Only checks that read nothing but the prompt and the reply are label-free; a checker that
    # is the scorer (IFEval's, constraints') is an oracle.
    assert checks == {
        "arith": "none", "knights": "none", "constraints": "oracle", "code": "label-free",
        "gsm8k": "none", "humaneval": "label-free", "ifeval": "oracle",
        "jsonl": "none", "csv": "none", "hf": "none",
    }  # fmt: skip
    details = {info.name: info.check_detail for info in list_tasks()}
    assert "prompt" in str(details["code"]) and "scorer" in str(details["ifeval"])


def test_gold_derived_metadata_never_reaches_a_strategy_view() -> None:
    from reflectlab.task import get_task

    arith = get_task("arith", n=1).samples()[0]
    assert "operations" in arith.metadata  # the steps that produce the answer
    view = arith.view(get_task("arith", n=1).public_metadata)
    assert view.metadata == {} and not hasattr(view, "target")
    code_task = get_task("code", n=1)
    code_view = code_task.samples()[0].view(code_task.public_metadata)
    assert set(code_view.metadata) == {"entry_point", "family", "visible"}
    assert "tests" not in code_view.metadata  # the hidden tests stay in the target
