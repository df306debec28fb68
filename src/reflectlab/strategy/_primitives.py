"""Shared building blocks, so strategies are short compositions and no two carry the same loop.

- :class:`Conversation`: a growing message list. Successive rounds extend the same list, so a
  serving engine's prefix cache is reused (vLLM, llama.cpp slots).
- :func:`ask`: one model turn on a conversation.
- :func:`critique`: feedback of any kind on a response, phrased by the strategy's own prompt.
- :func:`critique_and_refine`: the feedback -> refine loop of Self-Refine-like methods, with the
  stop rule, checkpoints and round tags in one place.
- :func:`sample_n`, :func:`majority`: parallel sampling and answer-normalised voting.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from reflectlab.feedback import (
    Feedback,
    FeedbackKind,
    FeedbackRequest,
    VerdictParser,
    parse_verdict,
)
from reflectlab.model import ChatMessage
from reflectlab.strategy._context import StrategyContext


@dataclass
class Conversation:
    messages: list[ChatMessage] = field(default_factory=list)

    @classmethod
    def start(
        cls, ctx: StrategyContext, *, system: str | None = None, prompt: str | None = None
    ) -> Conversation:
        """A conversation opened with the task's own prompt for the sample."""
        convo = cls()
        if system:
            convo.system(system)
        convo.user(prompt if prompt is not None else ctx.task.format_prompt(ctx.sample))
        return convo

    def system(self, text: str) -> Conversation:
        self.messages.append(ChatMessage(role="system", content=text))
        return self

    def user(self, text: str) -> Conversation:
        self.messages.append(ChatMessage(role="user", content=text))
        return self

    def assistant(self, text: str) -> Conversation:
        self.messages.append(ChatMessage(role="assistant", content=text))
        return self

    def fork(self) -> Conversation:
        return Conversation(list(self.messages))

    @property
    def question(self) -> str:
        """The first user message: the task prompt."""
        return next((m.content for m in self.messages if m.role == "user"), "")


async def ask(
    ctx: StrategyContext, convo: Conversation, *, role: str, round: int | None, **config: Any
) -> str:
    """One model turn: generate on the conversation, append the reply, return it."""
    out = await ctx.generate(convo.messages, role=role, round=round, **config)
    convo.assistant(out.text)
    return out.text


async def critique(
    ctx: StrategyContext,
    kind: FeedbackKind,
    convo: Conversation,
    response: str,
    *,
    round: int,
    self_prompt: str,
    critic_prompt: str,
    parse: VerdictParser = parse_verdict,
) -> Feedback:
    """Feedback on ``response`` from a source of ``kind``.

    Intrinsic feedback continues the solver's own conversation with ``self_prompt`` (the prefix
    is shared). A critic model gets ``critic_prompt`` formatted with ``{question}`` and
    ``{response}`` as a fresh conversation (it did not write the answer). Tool and oracle
    sources ignore the prompts.
    """
    if kind == "intrinsic":
        messages = [*convo.messages, ChatMessage(role="user", content=self_prompt)]
    elif kind == "critic":
        text = critic_prompt.format(question=convo.question, response=response)
        messages = [ChatMessage(role="user", content=text)]
    else:
        messages = []
    return await ctx.get_feedback(
        kind,
        FeedbackRequest(response=response, round=round, critique_messages=messages, parse=parse),
    )


async def critique_and_refine(
    ctx: StrategyContext,
    convo: Conversation,
    response: str,
    *,
    kind: FeedbackKind,
    max_rounds: int,
    self_prompt: str,
    critic_prompt: str,
    refine_prompt: str,
    parse: VerdictParser = parse_verdict,
    stop_on_correct: bool = True,
    on_feedback: Callable[[Feedback], None] | None = None,
) -> str:
    """Feedback -> refine, up to ``max_rounds`` refinements (round k = the k-th refinement).

    The refiner sees its previous answer and the feedback text: intrinsic feedback is appended
    to the same conversation as the model's own turn; other feedback arrives as a user message.
    ``refine_prompt`` may use ``{feedback}``. Stops when the feedback verdict is "correct" (if
    ``stop_on_correct``); an unparseable verdict never stops the loop early.
    """
    rounds = min(max_rounds, ctx.budget.max_rounds)
    for k in range(1, rounds + 1):
        fb = await critique(
            ctx,
            kind,
            convo,
            response,
            round=k,
            self_prompt=self_prompt,
            critic_prompt=critic_prompt,
            parse=parse,
        )
        if on_feedback is not None:
            on_feedback(fb)
        if stop_on_correct and fb.verdict == "correct":
            ctx.notes["stop_reason"] = f"feedback said correct in round {k}"
            return response
        if kind == "intrinsic":
            convo.user(self_prompt).assistant(fb.text)
            convo.user(refine_prompt.format(feedback="(see your feedback above)"))
        else:
            convo.user(refine_prompt.format(feedback=fb.text))
        response = await ask(ctx, convo, role="refine", round=k)
        ctx.checkpoint(response, round=k)
    ctx.notes.setdefault("stop_reason", f"max_rounds={rounds}")
    return response


async def sample_n(
    ctx: StrategyContext,
    messages: list[ChatMessage],
    n: int,
    *,
    role: str,
    round: int | None,
    temperature: float,
) -> list[str]:
    """``n`` samples of the same request, concurrently; each is a distinct cached call."""
    outs = await asyncio.gather(
        *(ctx.generate(messages, role=role, round=round, temperature=temperature) for _ in range(n))
    )
    return [o.text for o in outs]


def majority(ctx: StrategyContext, responses: list[str]) -> tuple[str, dict[str, int]]:
    """The response whose normalised answer is most common (Wang et al. 2022).

    Answers are compared after the task's extraction; replies with no extractable answer do not
    vote. Ties go to the answer seen first. With no votes at all, the first response is kept.
    """
    answers = [ctx.task.extract(ctx.sample, r).value for r in responses]
    votes = Counter(a for a in answers if a is not None)
    if not votes:
        return responses[0], {}
    best = max(votes.values())
    winner = next(a for a in answers if a is not None and votes[a] == best)
    return responses[answers.index(winner)], dict(votes)
