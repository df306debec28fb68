"""Any reflectlab strategy as a DSPy module (``pip install 'reflectlab[dspy]'``).

::

    import dspy
    from reflectlab.integrations.dspy import StrategyModule

    dspy.configure(lm=dspy.LM("openai/gpt-4o-mini"))
    refine = StrategyModule("self_refine", params={"max_rounds": 2})
    pred = refine(question="What is 17 * 3?")
    pred.answer, pred.calls, pred.checkpoints

The strategy calls ``ctx.generate`` as under ``reflectlab run``; :class:`DSPyLMAPI`, a
reflectlab provider over a DSPy LM, sends each request to that LM (``dspy.settings.lm``, or the
module's ``lm``), so DSPy records it in the LM's history and usage tracking. The prompts are
the strategy's own (sent as chat messages, not through a DSPy adapter or signature), so the
module has nothing for a DSPy optimizer to tune; it composes with other modules as a step.

DSPy caches identical requests. So that a strategy sampling the same prompt several times
(self-consistency, best-of-N) gets distinct replies, the n-th repeat of a request within one
call of the module is sent with ``rollout_id=n`` (DSPy's own way to tell samples apart; it
needs a temperature above 0, as sampling does), and the first with none.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any, ClassVar

from reflectlab.errors import ConfigError, ModelError
from reflectlab.integrations._common import missing, run_on_prompt
from reflectlab.model import ChatMessage, GenerateConfig, Model, ModelAPI, ProviderResponse
from reflectlab.model import RetryPolicy as _RetryPolicy
from reflectlab.strategy import Budget, get_strategy
from reflectlab.task import get_task

try:
    import dspy as _dspy
    from dspy.lm15 import Config, Message, Request
except ImportError as exc:  # pragma: no cover - exercised only without the extra
    raise missing("dspy", "dspy") from exc

__all__ = ["DSPyLMAPI", "StrategyModule"]


class DSPyLMAPI(ModelAPI):
    """A reflectlab provider over a DSPy LM: each request is one ``lm.acall(Request)`` (more
    when ``n`` choices are asked), so DSPy records, caches and retries it. Repeats of one
    request get ``rollout_id`` 1, 2, ... so DSPy's cache keeps them apart."""

    provider: ClassVar[str] = "dspy"

    def __init__(self, lm: Any) -> None:
        super().__init__(str(getattr(lm, "model", "lm")), max_connections=1_000_000)
        self.lm = lm
        self._seen: dict[str, int] = {}

    async def generate(
        self, messages: list[ChatMessage], config: GenerateConfig
    ) -> ProviderResponse:
        system = "\n\n".join(m.content for m in messages if m.role == "system") or None
        turns = tuple(
            Message.assistant(m.content) if m.role == "assistant" else Message.user(m.content)
            for m in messages
            if m.role != "system"
        )
        request = Request(
            model=self.model_name,
            messages=turns,
            system=system,
            config=Config(
                temperature=config.temperature,
                max_tokens=config.max_tokens,
                top_p=config.top_p,
                stop=tuple(config.stop or ()),
                seed=config.seed,
            ),
        )
        choices: list[str] = []
        reasons: list[str | None] = []
        prompt_tokens = completion_tokens = 0
        usage_known = True
        key = json.dumps(
            [[(m.role, m.content) for m in messages], config.model_dump(mode="json", exclude={"n"})]
        )
        for _ in range(config.n):
            repeat = self._seen.get(key, 0)
            self._seen[key] = repeat + 1
            try:
                if repeat:
                    response = await self.lm.acall(request, rollout_id=repeat)
                else:
                    response = await self.lm.acall(request)
            except Exception as exc:  # DSPy has retried already; translate at the boundary
                raise ModelError(f"{type(exc).__name__}: {exc}", model=self.name) from exc
            choices.append(str(response.text or ""))
            reasons.append(str(response.finish_reason) if response.finish_reason else None)
            usage = response.usage
            if usage.input_tokens is None or usage.output_tokens is None:
                usage_known = False
            else:
                prompt_tokens += usage.input_tokens
                completion_tokens += usage.output_tokens
        return ProviderResponse(
            choices=choices,
            finish_reasons=reasons,
            prompt_tokens=prompt_tokens,
            completion_tokens=completion_tokens,
            usage_known=usage_known,
        )


class StrategyModule(_dspy.Module):  # type: ignore[misc]
    """A reflectlab strategy as a DSPy module: ``question`` in, ``answer`` out.

    ``strategy`` and ``params`` are as in ``reflectlab run --strategy/--param``; ``task``
    optionally names a reflectlab task whose prompt format and answer extraction the strategy
    uses (default: the question as it is, answers compared as text); ``max_calls`` and
    ``max_tokens`` bound it per call. The prediction also carries ``checkpoints`` (each
    intermediate answer, round by round), ``calls``, ``tokens``, ``stop_reason`` and ``error``.
    Unknown strategies and bad parameters fail here, before any call.
    """

    def __init__(
        self,
        strategy: str = "self_refine",
        params: dict[str, Any] | None = None,
        *,
        task: str | None = None,
        max_calls: int | None = None,
        max_tokens: int | None = None,
        lm: Any = None,
    ) -> None:
        super().__init__()
        get_strategy(strategy, **(params or {}))  # validate now: a typo fails at once
        self.strategy = strategy
        self.params = dict(params or {})
        self.task = get_task(task) if task else None
        self.budget = Budget(max_calls=max_calls, max_tokens=max_tokens)
        self.lm = lm

    def forward(self, question: str) -> Any:
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            return asyncio.run(self.aforward(question))
        raise ConfigError("StrategyModule called inside an event loop: use `await module.acall()`")

    async def aforward(self, question: str) -> Any:
        lm = self.lm or _dspy.settings.lm
        if lm is None:
            raise ConfigError("no DSPy LM: dspy.configure(lm=...) or StrategyModule(lm=...)")
        model = Model(DSPyLMAPI(lm), retry=_RetryPolicy(max_attempts=1))
        result = await run_on_prompt(
            model,
            strategy=self.strategy,
            params=self.params,
            prompt=question,
            sample_id="dspy",
            task=self.task,
            budget=self.budget,
        )
        return _dspy.Prediction(
            answer=result.final_response or "",
            checkpoints=[c.model_dump(mode="json") for c in result.checkpoints],
            calls=result.calls,
            tokens=result.tokens,
            stop_reason=result.stop_reason,
            error=result.error,
        )
