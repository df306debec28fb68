"""What a run is: tasks x strategies x models, with seed, limits, budgets and baselines."""

from __future__ import annotations

import json
import tomllib
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from reflectlab.errors import ConfigError

if TYPE_CHECKING:
    from reflectlab.model._models_file import ModelsFile

BaselineMode = Literal["equal-calls", "equal-tokens", "none"]


class StrategySpec(BaseModel):
    """A strategy and its parameters. ``label`` names it in results (defaults to the name, or
    ``name:key=value:...`` when parameters are given, so two variants can run side by side)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str
    params: dict[str, Any] = Field(default_factory=dict)
    label: str = ""

    def display(self) -> str:
        if self.label:
            return self.label
        if not self.params:
            return self.name
        return ":".join([self.name, *(f"{k}={v}" for k, v in sorted(self.params.items()))])

    @classmethod
    def parse(cls, text: str) -> StrategySpec:
        """``self_refine`` or ``self_refine:feedback=critic:max_rounds=2``. Values are read as
        JSON where they parse (numbers, true/false), else kept as strings."""
        name, *parts = [p.strip() for p in text.strip().split(":")]
        if not name:
            raise ConfigError(f"empty strategy name in {text!r}")
        params: dict[str, Any] = {}
        for part in parts:
            key, sep, raw = part.partition("=")
            if not sep or not key:
                raise ConfigError(
                    f"strategy parameter {part!r} in {text!r} must look like key=value"
                )
            try:
                params[key] = json.loads(raw)
            except ValueError:
                params[key] = raw
        return cls(name=name, params=params)


class RunConfig(BaseModel):
    """The full configuration of a run; stored with it, so ``resume`` rebuilds it exactly."""

    model_config = ConfigDict(extra="forbid")

    task: str
    task_options: dict[str, Any] = Field(default_factory=dict)
    strategies: list[StrategySpec]
    model: str
    critic_model: str | None = None
    judge_model: str | None = None
    base_url: str | None = None
    limit: int | None = Field(default=None, ge=1)
    seed: int = 0
    concurrency: int = Field(default=8, ge=1, le=4096)
    max_rounds: int = Field(
        default=3,
        ge=0,
        le=50,
        description="rounds for strategies that take max_rounds and were not given their own",
    )
    timeout_s: float | None = Field(
        default=None, gt=0, description="per request attempt (None: REFLECTLAB_TIMEOUT or 120 s)"
    )
    connect_timeout_s: float | None = Field(default=None, gt=0)
    max_retries: int | None = Field(default=None, ge=0, le=49)
    max_tokens: int | None = Field(default=None, ge=1, description="per model call")
    temperature: float | None = Field(default=None, ge=0.0, le=2.0)
    sample_budget_tokens: int | None = Field(default=None, ge=1)
    sample_budget_calls: int | None = Field(default=None, ge=1)
    budget_tokens: int | None = Field(default=None, ge=1, description="whole run")
    budget_usd: float | None = Field(default=None, gt=0.0, description="whole run")
    baselines: BaselineMode = "equal-calls"
    use_cache: bool = True
    config_file: dict[str, Any] | None = Field(
        default=None,
        description="the --config file the run was started with: {'path': ..., 'content': "
        "{...}} as read (flags given beside it override it; the fields above are what ran)",
    )
    models: dict[str, Any] | None = Field(
        default=None,
        description="the --models-file the run was started with, as checked: {'path': ..., "
        "'models': {name: {endpoints, api_key_env, prices}}}; the models it names are built "
        "with those endpoints (API keys are read from the environment, never stored)",
    )
    prompts: str | None = Field(
        default=None,
        description="the --prompts file the run was started with; its tables were applied "
        "as each listed strategy's prompts= parameter (the texts are stored there)",
    )

    def with_prompts_file(self, path: str | Path) -> RunConfig:
        """This config with a prompts TOML file applied: each strategy of the run that has a
        table ``[name]`` gets it as its ``prompts`` parameter (the texts themselves, so a
        resume sends the same prompts even if the file changes) and ``:prompts=FILE`` in its
        label; a strategy given its own ``prompts=`` keeps it. Every table is checked (an
        unknown strategy or template is a :class:`ConfigError` naming the file and the key);
        a table for a strategy that is not in this run is checked and otherwise ignored."""
        from reflectlab.strategy import strategy_info
        from reflectlab.strategy._prompts import check_overrides, load_prompts_file

        origin = f"prompts file {path}"
        tables = load_prompts_file(path)
        for section, table in tables.items():
            try:
                info = strategy_info(section)
            except ConfigError as exc:
                raise ConfigError(f"{origin}: [{section}]: {exc}") from None
            check_overrides(section, info.factory, table, origin)
        specs = []
        for spec in self.strategies:
            table = tables.get(spec.name, {})
            if table and "prompts" not in spec.params:
                label = spec.label or f"{spec.display()}:prompts={Path(path).name}"
                spec = spec.model_copy(
                    update={"params": {**spec.params, "prompts": dict(table)}, "label": label}
                )
            specs.append(spec)
        return self.model_copy(update={"strategies": specs, "prompts": str(path)})

    def with_models_file(self, path: str | Path) -> RunConfig:
        """This config with a models file (see :mod:`reflectlab.model._models_file`) read,
        checked and stored in it, so a resume reaches the same endpoints."""
        from reflectlab.model._models_file import load_models_file

        checked = load_models_file(path)
        return self.model_copy(update={"models": checked.model_dump(mode="json")})

    def models_file(self) -> ModelsFile | None:
        """The run's models file, or ``None``."""
        if self.models is None:
            return None
        from reflectlab.model._models_file import parse_models

        return parse_models({"models": self.models.get("models")}, str(self.models.get("path")))

    def labels(self) -> list[str]:
        labels = [s.display() for s in self.strategies]
        dupes = {x for x in labels if labels.count(x) > 1}
        if dupes:
            raise ConfigError(f"strategy listed twice: {sorted(dupes)}")
        return labels


def read_config_file(path: str | Path) -> dict[str, Any]:
    """A ``reflectlab run --config FILE.toml`` file as a table; an unreadable file or invalid
    TOML is a :class:`ConfigError` naming the file (and the line, for TOML)."""
    try:
        with open(path, "rb") as fh:
            return tomllib.load(fh)
    except OSError as exc:
        raise ConfigError(f"--config {path}: cannot read it ({exc.strerror or exc})") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"--config {path}: not valid TOML: {exc}") from None
