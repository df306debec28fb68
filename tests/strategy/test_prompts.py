"""Named prompt templates: ctx.prompt lookups, overrides from a dict or a TOML file, errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from reflectlab.errors import ConfigError
from reflectlab.model import capture_calls
from reflectlab.run import RunConfig, StrategySpec
from reflectlab.run._runner import _versions
from reflectlab.strategy import get_strategy, run_strategy, strategy_info
from reflectlab.strategy._prompts import overridable, templates
from reflectlab.task import get_task
from support.numbers import make_ctx

SCRIPT = ["Answer: 4", "Correct: no", "I added wrongly.", "Answer: 5", "Correct: yes"]
MINE = "Think again about {question}; you wrote {response}. {outcome} Notes: {feedback}"


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "prompts.toml"
    path.write_text(text, encoding="utf-8")
    return path


async def test_an_override_replaces_the_template_and_the_default_stays_elsewhere() -> None:
    fn = get_strategy("reflexion", prompts={"REFLECT_PROMPT": MINE})
    with capture_calls() as calls:
        await run_strategy(fn, make_ctx(SCRIPT))
    reflect = next(c for c in calls if c.role == "reflect").messages[-1].content
    assert reflect.startswith("Think again about") and "you wrote Answer: 4" in reflect
    with capture_calls() as calls:
        await run_strategy(get_strategy("reflexion"), make_ctx(SCRIPT))
    reflect = next(c for c in calls if c.role == "reflect").messages[-1].content
    assert reflect.startswith("You are an advanced reasoning agent")


async def test_a_toml_file_as_the_prompts_parameter(tmp_path: Path) -> None:
    path = write(tmp_path, '[retry]\nVERIFY_PROMPT = "Is it right? Say Correct: yes or no."\n')
    with capture_calls() as calls:
        await run_strategy(get_strategy("retry", prompts=str(path)), make_ctx(SCRIPT))
    assert calls[1].messages[-1].content == "Is it right? Say Correct: yes or no."


@pytest.mark.parametrize(
    ("toml", "message"),
    [
        ('[retry]\nNO_SUCH_PROMPT = "x"\n', "[retry] NO_SUCH_PROMPT: strategy 'retry' has no"),
        ('[retry]\nVERIFY_PROMPT = "{answer}"\n', "[retry] VERIFY_PROMPT: unknown placeholder"),
        ("[retry]\nVERIFY_PROMPT = 3\n", "[retry] VERIFY_PROMPT must be a string"),
        ('[reflexion]\nREFLECT_PROMPT = "x"\n', "no [retry] table"),
        ("[retry\n", "not valid TOML"),
    ],
)
def test_bad_files_are_config_errors_naming_file_and_key(
    tmp_path: Path, toml: str, message: str
) -> None:
    path = write(tmp_path, toml)
    with pytest.raises(ConfigError) as err:
        get_strategy("retry", prompts=str(path))
    assert str(path) in str(err.value) and message in str(err.value)


def test_templates_of_a_strategy_include_those_it_borrows() -> None:
    factory = strategy_info("reflexion").factory
    assert {"REFLECT_PROMPT", "VERIFY_PROMPT", "CRITIC_VERIFY_PROMPT"} <= overridable(factory)
    assert "HARNESS" in templates(strategy_info("progco").factory)


def test_a_run_prompts_file_applies_each_table_and_stores_the_texts(tmp_path: Path) -> None:
    path = write(tmp_path, f'[reflexion]\nREFLECT_PROMPT = "{MINE}"\n[critic]\n')
    config = RunConfig(
        task="arith",
        model="mock/x",
        strategies=[StrategySpec(name="reflexion"), StrategySpec(name="retry")],
    ).with_prompts_file(path)
    reflexion, retry = config.strategies
    assert reflexion.params["prompts"] == {"REFLECT_PROMPT": MINE}
    assert reflexion.display() == "reflexion:prompts=prompts.toml"
    assert "prompts" not in retry.params and retry.display() == "retry"
    assert config.prompts == str(path)


@pytest.mark.parametrize(
    ("toml", "message"),
    [
        ('[self_refinee]\nX = "y"\n', "[self_refinee]: unknown strategy 'self_refinee'"),
        ('[reflexion]\nREFLECT = "y"\n', "[reflexion] REFLECT: strategy 'reflexion' has no"),
        ('title = "x"\n', "key 'title' must be a table"),
    ],
)
def test_a_run_prompts_file_with_unknown_names_is_refused(
    tmp_path: Path, toml: str, message: str
) -> None:
    path = write(tmp_path, toml)
    config = RunConfig(task="arith", model="mock/x", strategies=[StrategySpec(name="reflexion")])
    with pytest.raises(ConfigError) as err:
        config.with_prompts_file(path)
    assert str(path) in str(err.value) and message in str(err.value)


def test_the_stored_prompt_hash_tells_runs_with_different_prompts_apart() -> None:
    task = get_task("arith")

    def versions(spec: StrategySpec) -> dict[str, str]:
        config = RunConfig(task="arith", model="mock/x", strategies=[spec])
        out: dict[str, str] = _versions(config, task)["strategies"][spec.display()]
        return out

    plain = versions(StrategySpec(name="reflexion"))
    custom = versions(StrategySpec(name="reflexion", params={"prompts": {"REFLECT_PROMPT": MINE}}))
    assert plain["code_sha256"] == custom["code_sha256"]
    assert plain["prompts_sha256"] != custom["prompts_sha256"]
    assert "prompt_overrides" not in plain and list(custom["prompt_overrides"]) == [
        "REFLECT_PROMPT"
    ]


def test_without_overrides_the_hash_is_the_one_older_runs_stored() -> None:
    import hashlib
    import inspect

    from reflectlab.strategy._prompts import prompts_digest

    for name in ("self_refine", "progco", "reflexion"):
        factory = strategy_info(name).factory
        module = inspect.getmodule(factory)
        constants = sorted(
            f"{k}={v}" for k, v in vars(module).items() if k.isupper() and isinstance(v, str)
        )
        old = hashlib.sha256("\n".join(constants).encode()).hexdigest()[:16]
        assert prompts_digest(factory, {}) == old
