"""Shared building blocks, so strategies are short compositions and no two carry the same loop.

- :class:`Conversation`: a growing message list. Successive rounds extend the same list, so a
  serving engine's prefix cache is reused (vLLM, llama.cpp slots).
- :func:`ask`: one model turn on a conversation.
- :func:`critique`: feedback of any kind on a response, phrased by the strategy's own prompt.
- :func:`critique_and_refine`: the feedback -> refine loop of Self-Refine-like methods, with the
  stop rule, checkpoints and round tags in one place; an optional external ``stop_rule`` (e.g.
  :func:`oracle_stop`, Huang et al.'s gold-label stop, which marks the run oracle-assisted).
- :func:`answer_format`: the task's answer-format instruction, for follow-up prompts that
  repeat it.
- :func:`sample_n`, :func:`majority`: parallel sampling and answer-normalised voting.
- :func:`evaluate_and_revise`: the generate -> check -> revise loop of retry, Reflexion, CRITIC
  and ProgCo (the evaluator and the reviser are the strategy's own; ``round_offset`` for loops
  that restart); :func:`feedback_from` and :func:`record_feedback` keep the provenance of
  feedback from a configured source; :func:`best_scored` picks the top-scored candidate (ties:
  majority, then earliest).
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from reflectlab.feedback import (
    Feedback,
    FeedbackKind,
    FeedbackRequest,
    FeedbackSource,
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


#: ``stop_rule(response, round)``: whether to stop before critiquing ``response`` in ``round``.
StopRule = Callable[[str, int], Awaitable[bool]]


def oracle_stop(ctx: StrategyContext) -> StopRule:
    """A stop rule that asks the gold label (feedback kind "oracle") whether the current answer
    is correct: the run is marked oracle-assisted by the oracle source itself. Only the verdict
    is used; the oracle's text never reaches a prompt."""

    async def correct(response: str, k: int) -> bool:
        fb = await ctx.get_feedback("oracle", FeedbackRequest(response=response, round=k))
        return fb.verdict == "correct"

    return correct


def answer_format(
    ctx: StrategyContext, fallback: str = "Give your final answer in the format the task asks for."
) -> str:
    """The task's answer-format instruction: what its prompt adds after the sample's input
    (e.g. "... write the final answer ... in the form 'Answer: <number>'."), or ``fallback``
    when the prompt does not have that shape. For papers whose follow-up prompts repeat the
    answer format (Huang et al. 2023: "Please reiterate your answer, with your final answer
    ...")."""
    prompt, question = ctx.task.format_prompt(ctx.sample), ctx.sample.input
    if question and prompt.startswith(question):
        suffix = prompt[len(question) :].strip()
        if suffix:
            return suffix
    return fallback


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
    stop_rule: StopRule | None = None,
) -> str:
    """Feedback -> refine, up to ``max_rounds`` refinements (round k = the k-th refinement).

    The refiner sees its previous answer and the feedback text: intrinsic feedback is appended
    to the same conversation as the model's own turn; other feedback arrives as a user message.
    ``refine_prompt`` may use ``{feedback}``. Stops when the feedback verdict is "correct" (if
    ``stop_on_correct``); an unparseable verdict never stops the loop early. ``stop_rule``, if
    given, is asked before each round's critique (``stop_rule(response, k)``) and stops the loop
    when it returns true — e.g. :func:`oracle_stop`, Huang et al.'s gold-label stop.
    """
    rounds = min(max_rounds, ctx.budget.max_rounds)
    for k in range(1, rounds + 1):
        if stop_rule is not None and await stop_rule(response, k):
            ctx.notes["stop_reason"] = f"stop rule before round {k}"
            return response
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


# -- evaluate -> revise loops, recorded feedback, model-written programs -----------------------
# (added for best_of_n, retry, reflexion, critic and progco)

Evaluate = Callable[[str, int], Awaitable[Feedback]]
Revise = Callable[[str, Feedback, int], Awaitable[str]]


def tally(ctx: StrategyContext, key: str, n: int = 1) -> None:
    """Count an event (an unparseable reply, an unknown verdict) in ``ctx.notes[key]``."""
    ctx.notes[key] = int(ctx.notes.get(key, 0)) + n


def record_feedback(ctx: StrategyContext, fb: Feedback) -> Feedback:
    """Record feedback that did not come through :meth:`StrategyContext.get_feedback` (a
    configured source, a judge's score) so the run's provenance still lists its kind."""
    ctx.feedback.append(fb)
    ctx.feedback_kinds.add(fb.kind)
    return fb


async def feedback_from(
    ctx: StrategyContext, source: FeedbackSource, request: FeedbackRequest
) -> Feedback:
    """Feedback from a specific source instance (e.g. code execution with the strategy's own
    sandbox limits), recorded like :meth:`StrategyContext.get_feedback` records the default
    source of a kind."""
    return record_feedback(ctx, await source(ctx, request))


def best_scored(ctx: StrategyContext, candidates: list[str], scores: list[float]) -> int:
    """The index of the best-scored candidate: ties go to the majority answer among the tied
    candidates, then to the earliest (Cobbe et al.-style reranking with a vote tie-break)."""
    best = max(scores)
    tied = [i for i, s in enumerate(scores) if s == best]
    chosen, _ = majority(ctx, [candidates[i] for i in tied])
    return next(i for i in tied if candidates[i] == chosen)


def same_answer(ctx: StrategyContext, a: str, b: str) -> bool:
    """Whether two replies give the same answer after the task's extraction (the raw text is
    compared when neither has an extractable answer)."""
    ea, eb = ctx.task.extract(ctx.sample, a).value, ctx.task.extract(ctx.sample, b).value
    if ea is None and eb is None:
        return a.strip() == b.strip()
    return ea == eb


async def evaluate_and_revise(
    ctx: StrategyContext,
    response: str,
    *,
    max_rounds: int,
    evaluate: Evaluate,
    revise: Revise,
    stop_on_correct: bool = True,
    stop_when_unchanged: int = 0,
    round_offset: int = 0,
) -> str:
    """The generate -> check -> revise loop shared by retry, Reflexion, CRITIC and ProgCo.

    Each round k (1..max_rounds, capped by the budget's ``max_rounds``): ``evaluate(response,
    k)`` gives feedback on the current answer; if its verdict is "correct" (and
    ``stop_on_correct``) the loop stops; otherwise ``revise(response, feedback, k)`` produces
    the next answer — a fresh sample, a reflection-guided trial, a tool-guided correction —
    which is checkpointed as round k. With ``stop_when_unchanged=n`` the loop also stops after
    n consecutive revisions that kept the (extracted) answer (CRITIC's rule). When the verdict
    can stop the loop, an "unknown" one never does and is counted in
    ``ctx.notes["unknown_verdicts"]``. ``round_offset`` numbers the rounds from
    ``round_offset + 1`` (a strategy that restarts the loop keeps its round numbers distinct).
    """
    rounds = min(max_rounds, ctx.budget.max_rounds)
    unchanged = 0
    for k in range(round_offset + 1, round_offset + rounds + 1):
        fb = await evaluate(response, k)
        if stop_on_correct and fb.verdict == "unknown":
            tally(ctx, "unknown_verdicts")
        if stop_on_correct and fb.verdict == "correct":
            ctx.notes["stop_reason"] = f"feedback said correct in round {k}"
            return response
        revised = await revise(response, fb, k)
        ctx.checkpoint(revised, round=k)
        unchanged = unchanged + 1 if same_answer(ctx, response, revised) else 0
        response = revised
        if stop_when_unchanged and unchanged >= stop_when_unchanged:
            ctx.notes["stop_reason"] = f"answer unchanged in round {k}"
            return response
    ctx.notes.setdefault("stop_reason", f"max_rounds={rounds}")
    return response


async def run_program(
    ctx: StrategyContext,
    program: str | None,
    source: FeedbackSource,
    *,
    response: str,
    round: int,
) -> Feedback:
    """Feedback from running a model-written ``program`` with an execution ``source`` (which
    runs it in the sandbox, never in-process). A reply with no program in it is not an error:
    it becomes "unknown" feedback saying so, counted in ``ctx.notes["missing_programs"]``."""
    if program is None:
        tally(ctx, "missing_programs")
        return record_feedback(
            ctx,
            Feedback(
                kind=source.kind,
                source=source.name,
                text="No Python program was found in the reply (expected a ```python block), "
                "so nothing could be run.",
                verdict="unknown",
                round=round,
                details={"reason": "no_program"},
            ),
        )
    request = FeedbackRequest(response=response, round=round, code=program)
    return await feedback_from(ctx, source, request)
