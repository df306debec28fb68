"""Any reflectlab strategy as an Inspect AI solver (``pip install 'reflectlab[inspect]'``).

::

    from inspect_ai import Task, eval
    from inspect_ai.dataset import Sample
    from inspect_ai.scorer import includes
    from reflectlab.integrations.inspect import reflectlab_solver

    task = Task(
        dataset=[Sample(input="What is 17 * 3?", target="51")],
        solver=reflectlab_solver("self_refine", params={"max_rounds": 2}),
        scorer=includes(),
    )
    eval(task, model="mockllm/model")

The strategy runs as it does under ``reflectlab run``: it calls ``ctx.generate``, which goes
through :class:`reflectlab.model.Model` (budget, role and round tags, the call event) to
:class:`InspectModelAPI`, a provider over the model Inspect is evaluating. So every call of the
strategy is an Inspect model call, logged in the sample's transcript and subject to Inspect's
cache, retries and limits. The final answer becomes ``state.output`` (what Inspect's scorers
read); the checkpoints, calls, tokens and stop reason go to ``state.metadata["reflectlab"]``.
"""

from __future__ import annotations

from typing import Any, ClassVar

from reflectlab.errors import ModelError
from reflectlab.integrations._common import missing, run_on_prompt
from reflectlab.model import ChatMessage, GenerateConfig, Model, ModelAPI, ProviderResponse
from reflectlab.model import RetryPolicy as _RetryPolicy
from reflectlab.strategy import Budget, get_strategy
from reflectlab.task import get_task

try:
    from inspect_ai.model import ChatMessageAssistant, ChatMessageSystem, ChatMessageUser
    from inspect_ai.model import GenerateConfig as InspectConfig
    from inspect_ai.model import Model as InspectModel
    from inspect_ai.model import ModelOutput as InspectOutput
    from inspect_ai.model import get_model as inspect_get_model
    from inspect_ai.solver import Generate, Solver, TaskState, solver
    from inspect_ai.util import LimitExceededError
except ImportError as exc:  # pragma: no cover - exercised only without the extra
    raise missing("inspect-ai", "inspect") from exc

__all__ = ["InspectModelAPI", "reflectlab_solver"]

_MESSAGE = {"system": ChatMessageSystem, "user": ChatMessageUser, "assistant": ChatMessageAssistant}
# Inspect's stop reasons -> the OpenAI-style finish reasons reflectlab records ("length" is
# what marks a truncated reply).
_FINISH = {"max_tokens": "length", "model_length": "length", "unknown": None}


class InspectModelAPI(ModelAPI):
    """A reflectlab provider over an Inspect model: each request is one
    ``inspect_model.generate`` call (more when ``n`` choices are asked of a model that returns
    fewer), so Inspect logs, caches and retries it.

    An Inspect limit hit inside a call (tokens, messages, time) is kept in :attr:`limit` and
    re-raised by the solver after the strategy stops, so Inspect ends the sample as it would
    without the adapter.
    """

    provider: ClassVar[str] = "inspect"

    def __init__(self, model: InspectModel) -> None:
        super().__init__(str(model), max_connections=1_000_000)  # Inspect limits connections
        self.inspect_model = model
        self.limit: LimitExceededError | None = None

    async def generate(
        self, messages: list[ChatMessage], config: GenerateConfig
    ) -> ProviderResponse:
        request = [_MESSAGE[m.role](content=m.content) for m in messages]
        cfg = InspectConfig(
            temperature=config.temperature,
            max_tokens=config.max_tokens,
            top_p=config.top_p,
            stop_seqs=list(config.stop) if config.stop else None,
            seed=config.seed,
            num_choices=config.n if config.n > 1 else None,
        )
        choices: list[str] = []
        reasons: list[str | None] = []
        prompt_tokens = completion_tokens = cached_tokens = 0
        usage_known = True
        served: str | None = None
        while len(choices) < config.n:
            try:
                out: InspectOutput = await self.inspect_model.generate(request, config=cfg)
            except LimitExceededError as exc:
                self.limit = exc
                raise ModelError(f"Inspect limit reached: {exc}", model=self.name) from exc
            except Exception as exc:  # Inspect has retried already; translate at the boundary
                raise ModelError(f"{type(exc).__name__}: {exc}", model=self.name) from exc
            if out.error:
                raise ModelError(f"Inspect model error: {out.error}", model=self.name)
            if not out.choices:
                break  # the Model's reply check reports the missing choices
            for choice in out.choices:
                choices.append(choice.message.text)
                reasons.append(_FINISH.get(choice.stop_reason, choice.stop_reason))
            served = out.model or served
            if out.usage is None:
                usage_known = False
            else:
                prompt_tokens += out.usage.input_tokens + (out.usage.input_tokens_cache_read or 0)
                cached_tokens += out.usage.input_tokens_cache_read or 0
                completion_tokens += out.usage.output_tokens
        return ProviderResponse(
            choices=choices[: config.n],
            finish_reasons=reasons[: config.n],
            prompt_tokens=prompt_tokens,
            completion_tokens=completion_tokens,
            cached_tokens=cached_tokens,
            usage_known=usage_known,
            served_model=served,
        )


@solver
def reflectlab_solver(
    strategy: str = "self_refine",
    params: dict[str, Any] | None = None,
    task: str | None = None,
    max_calls: int | None = None,
    max_tokens: int | None = None,
    model: str | None = None,
) -> Solver:
    """Run the reflectlab ``strategy`` (with ``params``, as ``reflectlab run --param``) on each
    sample's user prompt, with the model under evaluation (or Inspect model ``model``).

    ``task`` optionally names a reflectlab task (``"arith"``, ``"gsm8k:..."``) whose prompt
    format and answer extraction the strategy uses; by default the prompt is used as it is and
    answers are compared as text. ``max_calls``/``max_tokens`` bound the strategy per sample.
    Unknown strategies and bad parameters fail here, before any sample runs.

    The solver ignores Inspect's ``generate``: a strategy makes several calls with message
    lists of its own, so it calls the model directly (each call is still an Inspect model call,
    logged in the transcript); the conversation gets one assistant message, the final answer.
    """
    get_strategy(strategy, **(params or {}))  # validate now: a typo fails before the eval
    rtask = get_task(task) if task else None
    budget = Budget(max_calls=max_calls, max_tokens=max_tokens)

    async def solve(state: TaskState, generate: Generate) -> TaskState:
        api = InspectModelAPI(inspect_get_model(model))
        # Inspect retries the call; a second round of retries here would only multiply them.
        rmodel = Model(api, retry=_RetryPolicy(max_attempts=1))
        result = await run_on_prompt(
            rmodel,
            strategy=strategy,
            params=params,
            prompt=state.user_prompt.text,
            sample_id=str(state.sample_id),
            task=rtask,
            budget=budget,
        )
        if api.limit is not None:
            raise api.limit
        answer = result.final_response or ""
        state.output = InspectOutput.from_content(model=api.model_name, content=answer)
        state.messages.append(state.output.message)
        state.metadata["reflectlab"] = {
            "strategy": strategy,
            **result.model_dump(
                mode="json",
                include={
                    "checkpoints",
                    "stop_reason",
                    "calls",
                    "tokens",
                    "error",
                    "error_kind",
                    "oracle_assisted",
                    "feedback_kinds",
                },
            ),
        }
        return state

    return solve
