"""``dialectic``: Hegelian self-dialectic — thesis, antithesis, synthesis, repeated.

Abdali et al. 2025, "Self-reflecting Large Language Models: A Hegelian Dialectical Approach"
(arXiv:2501.14917). Procedure: the model states a thesis — its first answer (role "draft",
round 0); each round k it argues against its current thesis, producing an antithesis that
attacks its weak points and proposes the opposing view (role "feedback"), then resolves the
contradiction in a synthesis that keeps what survives of both (role "refine", checkpointed as
round k); the synthesis becomes the next round's thesis. ``max_rounds`` rounds, no early stop.

Temperature (the paper studies both): ``schedule="fixed"`` uses ``temperature`` for every
call; ``schedule="annealed"`` starts creative and cools down — round k's calls use a
temperature that falls linearly from ``t_start`` (the thesis and round 1) to ``t_end`` (the
last round), so early rounds explore and late ones refine.

Prompts: ours, not the authors'. We searched for the paper's wording and did not find it:
the paper's full text is not in the stored material we can search (only its abstract and
summaries of it are), we found no code released by the authors, and no reimplementation that
quotes prompts from it (searched by title and for "thesis / antithesis / synthesis",
"opposition temperature", "MAMV" and "Hegelian dialectic" in code, issues and web pages).
:data:`ANTITHESIS_PROMPT` and :data:`SYNTHESIS_PROMPT` are our wording of the roles the
abstract and summaries describe: an antithesis that takes the opposing view to the thesis,
and a synthesis that resolves the contradiction between the two.

Deviations: the annealing schedule is ours too: the linear schedule and its default end points
(1.0 -> 0.2) and the fixed default (0.7). One third-party reimplementation's documentation (an
"hegelian" package, found by text search, which misnames the paper's authors) describes the
paper's Algorithm 1 as an antithesis at a fixed "opposition temperature" 0.5 and a synthesis
at tau_0 * exp(-theta * i) with tau_0 = 0.7, theta in [0.1, 0.5] and 5 (ideas) or 3 (math)
iterations, citing Appendix A, Table 2; we could not check that against the paper, so it is
not implemented, and here both calls of a round share its temperature. The paper's
Multi-Agent Majority Voting (MAMV) judges the novelty of generated *ideas*; it is not part of
answering a task and is not implemented. Each antithesis and synthesis is a fresh single-turn
prompt that shows the task and the texts it works on (the thesis and antithesis), so the
prompt does not grow with the rounds.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from reflectlab.errors import ConfigError
from reflectlab.feedback import Feedback
from reflectlab.model import ChatMessage
from reflectlab.strategy._context import StrategyContext
from reflectlab.strategy._primitives import Conversation, answer_format, record_feedback
from reflectlab.strategy._registry import StrategyFn, strategy

Schedule = Literal["fixed", "annealed"]

# Ours (the paper's wording was not found): the antithesis, the opposing view to the thesis.
ANTITHESIS_PROMPT = (
    "Task:\n{question}\n\nThesis (a proposed answer):\n{thesis}\n\nArgue against this thesis. "
    "Find its weakest points: wrong steps, unjustified assumptions, overlooked cases or "
    "conditions of the task. State the strongest opposing view, and the answer it leads to."
)
# Ours (the paper's wording was not found): the synthesis, resolving thesis and antithesis.
SYNTHESIS_PROMPT = (
    "Task:\n{question}\n\nThesis:\n{thesis}\n\nAntithesis:\n{antithesis}\n\nResolve the "
    "contradiction between the thesis and the antithesis: keep what is right in each, discard "
    "what is wrong, and reason your way to a synthesis — a new, better answer to the task. "
    "{format}"
)


def temperatures(
    schedule: Schedule, rounds: int, temperature: float, t_start: float, t_end: float
) -> list[float]:
    """The temperature of round 0 (the thesis) .. ``rounds``: fixed, or linear from
    ``t_start`` at rounds 0 and 1 down to ``t_end`` at the last round."""
    if schedule == "fixed":
        return [temperature] * (rounds + 1)
    if rounds <= 1:
        return [t_start] * (rounds + 1)
    step = (t_start - t_end) / (rounds - 1)
    return [t_start] + [round(t_start - step * (k - 1), 6) for k in range(1, rounds + 1)]


@strategy(
    paper="Abdali et al., Self-reflecting Large Language Models: A Hegelian Dialectical Approach",
    year=2025,
    feedback=("intrinsic",),
)
def dialectic(
    max_rounds: Annotated[int, Field(ge=1, le=10)] = 3,
    schedule: Schedule = "fixed",
    temperature: Annotated[float, Field(ge=0.0, le=2.0)] = 0.7,
    t_start: Annotated[float, Field(ge=0.0, le=2.0)] = 1.0,
    t_end: Annotated[float, Field(ge=0.0, le=2.0)] = 0.2,
) -> StrategyFn:
    """Thesis -> antithesis -> synthesis; the synthesis is the next thesis."""
    if schedule == "annealed" and t_end > t_start:
        raise ConfigError(f"annealing cools down: t_end ({t_end}) must be <= t_start ({t_start})")

    async def run(ctx: StrategyContext) -> str:
        rounds = min(max_rounds, ctx.budget.max_rounds)
        temps = temperatures(schedule, rounds, temperature, t_start, t_end)
        ctx.notes["temperatures"] = temps
        antithesis_prompt = ctx.prompt("ANTITHESIS_PROMPT", ANTITHESIS_PROMPT)
        synthesis_prompt = ctx.prompt("SYNTHESIS_PROMPT", SYNTHESIS_PROMPT)
        question = ctx.task.format_prompt(ctx.sample)
        first = Conversation.start(ctx, prompt=question)
        out = await ctx.generate(first.messages, role="draft", round=0, temperature=temps[0])
        thesis = out.text
        ctx.checkpoint(thesis, round=0)
        for k in range(1, rounds + 1):
            text = antithesis_prompt.format(question=question, thesis=thesis)
            out = await ctx.generate(
                [ChatMessage(role="user", content=text)],
                role="feedback",
                round=k,
                temperature=temps[k],
            )
            antithesis = out.text
            record_feedback(
                ctx, Feedback(kind="intrinsic", source="antithesis", text=antithesis, round=k)
            )
            text = synthesis_prompt.format(
                question=question, thesis=thesis, antithesis=antithesis, format=answer_format(ctx)
            )
            out = await ctx.generate(
                [ChatMessage(role="user", content=text)],
                role="refine",
                round=k,
                temperature=temps[k],
            )
            thesis = out.text
            ctx.checkpoint(thesis, round=k)
        ctx.notes["stop_reason"] = f"max_rounds={rounds}"
        return thesis

    return run
