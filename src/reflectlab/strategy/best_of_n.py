"""``best_of_n``: sample n answers, keep the one a verifier ranks highest.

Cobbe et al. 2021, "Training Verifiers to Solve Math Word Problems" (arXiv:2110.14168):
sample many candidate solutions at temperature > 0 (100 in the paper), score each with a
verifier that judges the *whole* solution, return the top-ranked one. This is the reranking
implemented here. (Lightman et al. 2023, "Let's Verify Step by Step", rerank best-of-N the same
way but with a *process* reward model scoring every step; nothing here scores steps, so Cobbe
et al. is the method followed.)

Procedure: n candidates from the task prompt at ``temperature`` (role "draft", round 0), then
one of three selectors (round 1):

- ``selector="judge"``: a judge model (``ctx.judge``, else the solver itself) scores each
  candidate from 1 to 10 with :data:`JUDGE_PROMPT` (role "judge"). The score is parsed strictly
  from a final ``Score: N`` line; a reply without one ranks lowest and is counted in
  ``ctx.notes["unparseable_judge_scores"]``. Provenance: "critic" with a separate judge model,
  "intrinsic" when the solver judges itself.
- ``selector="tool"``: the task's label-free check (unit tests, constraint checks); a
  candidate that passes beats one that fails.
- ``selector="oracle"``: the gold label picks a correct candidate when there is one — an upper
  bound ("pass@n"), marked oracle-assisted.

Ties (equal top scores, several passing candidates) go to the majority answer among the tied
candidates, then to the earliest. Deviation: the paper's verifier is a model *trained* to
predict correctness; the judge here is prompted, not trained. Checkpoints: round 0 is the first
candidate (plain sampling), round 1 the selected one. With a call budget the number of
candidates shrinks so that generating and judging them fits (as ``self_consistency`` does).
"""

from __future__ import annotations

import asyncio
import math
import re
from typing import Literal

from reflectlab.errors import ConfigError
from reflectlab.feedback import Feedback, FeedbackKind, FeedbackRequest
from reflectlab.model import ChatMessage
from reflectlab.strategy._context import StrategyContext
from reflectlab.strategy._params import Count, Temperature
from reflectlab.strategy._primitives import (
    Conversation,
    majority,
    record_feedback,
    sample_n,
    tally,
)
from reflectlab.strategy._registry import StrategyFn, strategy

Selector = Literal["judge", "tool", "oracle"]

# Verifier prompt in the spirit of Cobbe et al. 2021 (an outcome verifier: is this solution
# correct?), phrased for a prompted judge that must end with a parseable score.
JUDGE_PROMPT = (
    "You are checking a proposed answer to a task.\n\nTask:\n{question}\n\n"
    "Proposed answer:\n{response}\n\n"
    "Check the answer carefully, step by step. How likely is it to be correct? After your "
    "reasoning, end with a final line of the form 'Score: N', where N is an integer from 1 "
    "(certainly wrong) to 10 (certainly correct)."
)
SCORE_MIN, SCORE_MAX = 1.0, 10.0
_SCORE_RE = re.compile(
    r"^[ \t*_#>-]*score[ \t*_]*:[ \t*_]*(\d+(?:\.\d+)?)[ \t]*(?:/[ \t]*10)?[ \t*_.]*$",
    re.I | re.M,
)


def parse_score(text: str) -> float | None:
    """The judge's score from its last ``Score: N`` line (N in 1..10, ``N/10`` allowed), or
    ``None`` when there is no such line or N is out of range — never a guess."""
    found = _SCORE_RE.findall(text)
    if not found:
        return None
    value = float(found[-1])
    return value if SCORE_MIN <= value <= SCORE_MAX else None


@strategy(
    paper="Cobbe et al., Training Verifiers to Solve Math Word Problems",
    year=2021,
    feedback=("intrinsic", "critic", "tool", "oracle"),
    baseline=True,
    calls=lambda p: p["n"] * (2 if p["selector"] == "judge" else 1),  # a judge call each
)
def best_of_n(
    n: Count = 5, temperature: Temperature = 0.7, selector: Selector = "judge"
) -> StrategyFn:
    """Sample n answers and keep the one a verifier (judge, task check or gold) ranks highest."""
    if n < 1:
        raise ConfigError(f"best_of_n needs n >= 1, not {n}")
    if temperature <= 0:
        raise ConfigError("best_of_n samples distinct candidates: temperature must be > 0")
    if selector not in ("judge", "tool", "oracle"):
        raise ConfigError(f"selector must be 'judge', 'tool' or 'oracle', not {selector!r}")

    async def run(ctx: StrategyContext) -> str:
        convo = Conversation.start(ctx)
        k = n
        if ctx.budget.max_calls is not None:
            per_candidate = 2 if selector == "judge" else 1
            k = max(1, min(n, ctx.budget.max_calls // per_candidate))
        ctx.notes["candidates"] = k
        candidates = await sample_n(
            ctx, convo.messages, k, role="draft", round=0, temperature=temperature
        )
        ctx.checkpoint(candidates[0], round=0, note="first candidate")
        if k == 1:
            ctx.notes["stop_reason"] = "one candidate: nothing to select"
            return candidates[0]
        if selector == "judge":
            scores = await _judge_scores(ctx, convo.question, candidates)
        else:
            scores = await _check_scores(ctx, selector, candidates)
        ctx.notes["scores"] = [None if s == -math.inf else s for s in scores]
        best = max(scores)
        tied = [i for i, s in enumerate(scores) if s == best]
        chosen, _ = majority(ctx, [candidates[i] for i in tied])
        index = next(i for i in tied if candidates[i] == chosen)
        ctx.notes["selected"] = index
        ctx.checkpoint(chosen, round=1, note=f"selected candidate {index} by {selector}")
        return chosen

    return run


async def _judge_scores(ctx: StrategyContext, question: str, candidates: list[str]) -> list[float]:
    """Score every candidate with the judge model; unparseable scores rank lowest."""
    judge = ctx.judge or ctx.model
    kind: FeedbackKind = "critic" if judge.name != ctx.model.name else "intrinsic"
    template = ctx.prompt("JUDGE_PROMPT", JUDGE_PROMPT)
    outs = await asyncio.gather(
        *(
            ctx.generate(
                [ChatMessage(role="user", content=template.format(question=question, response=c))],
                role="judge",
                round=1,
                model=judge,
            )
            for c in candidates
        )
    )
    scores: list[float] = []
    for i, out in enumerate(outs):
        score = parse_score(out.text)
        if score is None:
            tally(ctx, "unparseable_judge_scores")
        record_feedback(
            ctx,
            Feedback(
                kind=kind,
                source=f"judge:{judge.name}",
                text=out.text,
                round=1,
                details={"candidate": i, "score": score},
            ),
        )
        scores.append(-math.inf if score is None else score)
    return scores


async def _check_scores(
    ctx: StrategyContext, selector: Literal["tool", "oracle"], candidates: list[str]
) -> list[float]:
    """1 for a candidate the task check (or the gold label) accepts, 0 otherwise."""
    feedback = await asyncio.gather(
        *(ctx.get_feedback(selector, FeedbackRequest(response=c, round=1)) for c in candidates)
    )
    return [1.0 if fb.verdict == "correct" else 0.0 for fb in feedback]
