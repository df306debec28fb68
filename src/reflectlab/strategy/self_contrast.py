"""``self_contrast``: reflect on the differences between solutions from several perspectives.

Zhang, Shen, Wu, Peng, Wang, Zhuang & Lu 2024, "Self-Contrast: Better Reflection Through
Inconsistent Solving Perspectives" (ACL 2024; arXiv:2401.02009). The paper's finding: a model
judging its own single answer is overconfident or random; the *disagreements* between
answers reached from different perspectives point at the likely errors. Procedure:

1. **Perspectives** (1 call, role ``perspective``): the model writes ``perspectives`` distinct
   solving instructions tailored to the task (the paper's self-curated prompts).
2. **Solve** (``perspectives`` calls, role ``draft``, round 0): one answer per perspective,
   each in its own conversation with the perspective as the system message.
3. **Select**: keep one representative per distinct answer, most common first, at most
   ``max_selected``. If all answers agree there is nothing to contrast and the strategy stops
   with the round-0 answer.
4. **Contrast** (role ``contrast``, round 1): every pair of selected solutions is compared and
   their discrepancies listed (``contrast="pairwise"``, C(k, 2) calls, the paper's setting), or
   all are compared in one call (``contrast="all"``).
5. **Checklist** (1 call, role ``checklist``): the discrepancies are summarised into a
   checklist of points to re-examine.
6. **Revise** (k calls, role ``refine``, round 1): each selected solution is re-examined
   against the checklist, continuing its own conversation, and revised.

Calls: 1 + n + C(k, 2) + 1 + k with pairwise contrast (defaults n = k = 3: 11), 1 + n when the
perspectives agree. Checkpoints: round 0 the majority of the perspective answers, round 1 the
majority of the revised answers (ties go to the most common original answer's revision).

Deviations: the paper selects distinct responses by k-medoids clustering of sentence
embeddings; here responses are grouped by the task's normalised answer (a reply with no
extractable answer counts as its own group: it disagrees with the others). The final answer
is the majority over the revised solutions. Prompts are zero-shot paraphrases of the paper's
steps, not its few-shot templates. If the perspective list cannot be parsed, generic
perspectives are used and counted in ``notes["perspective_parse_failures"]``.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from itertools import combinations, cycle, islice
from typing import Any, Literal

from reflectlab.errors import ConfigError
from reflectlab.feedback import Feedback
from reflectlab.strategy._context import StrategyContext
from reflectlab.strategy._multi import answer_all, gather_calls
from reflectlab.strategy._params import Count, Temperature
from reflectlab.strategy._parsing import parse_list
from reflectlab.strategy._primitives import Conversation, ask, majority, record_feedback, tally
from reflectlab.strategy._registry import StrategyFn, strategy

# Prompts paraphrase the steps of Zhang et al. 2024 (Self-Contrast), Section 3.
PERSPECTIVES_PROMPT = (
    "Before anyone solves the task below, design {n} different ways to approach it. Write each "
    "as a short instruction (one or two sentences) telling a solver which perspective, role "
    "or method to use. Make them as different from each other as possible: a different "
    "method, a different order of reasoning, a check from a different angle.\n"
    "Output a numbered list with one instruction per line and nothing else.\n\n"
    "Task:\n{question}"
)
SOLVE_SYSTEM_PROMPT = "Solve the task using this approach: {perspective}"
CONTRAST_PAIR_PROMPT = (
    "Here is a task and two different solutions to it.\n\nTask:\n{question}\n\n"
    "Solution A:\n{a}\n\nSolution B:\n{b}\n\n"
    "Compare the two solutions carefully. List every discrepancy between them (different "
    "readings of the task, steps, assumptions, calculations or final answers) and for each "
    "explain where and why they diverge. Do not solve the task again."
)
CONTRAST_ALL_PROMPT = (
    "Here is a task and {k} different solutions to it.\n\nTask:\n{question}\n\n{solutions}\n\n"
    "Compare the solutions carefully. List every discrepancy between them (different "
    "readings of the task, steps, assumptions, calculations or final answers) and for each "
    "explain where and why they diverge. Do not solve the task again."
)
CHECKLIST_PROMPT = (
    "Different solutions to the task below disagree. These are the discrepancies found "
    "between them:\n\n{contrasts}\n\nTask:\n{question}\n\n"
    "Summarise the discrepancies into a checklist: a numbered list of specific points to "
    "re-examine (for example 'Check whether ...') that would settle which solution is right. "
    "Output only the checklist."
)
REVISE_PROMPT = (
    "Other solutions to this task disagree with yours. Re-examine your solution against this "
    "checklist, point by point:\n\n{checklist}\n\nCorrect any mistake you find (keep your "
    "answer if it holds up), then give your complete final answer in the format the task "
    "asks for."
)
#: Used when the model's list of perspectives cannot be parsed (counted in notes).
DEFAULT_PERSPECTIVES = (
    "Solve it directly, step by step, checking each step as you go.",
    "Solve it with a different method from the most obvious one.",
    "First restate what is given and what is asked, then solve it and verify the result "
    "against the task.",
)


def _max_calls(p: dict[str, Any]) -> int:
    """Perspectives, one answer each, the contrasts, the checklist, one revision each."""
    n, k = int(p["perspectives"]), min(int(p["perspectives"]), int(p["max_selected"]))
    contrasts = k * (k - 1) // 2 if p["contrast"] == "pairwise" else 1
    return 1 + n + contrasts + 1 + k


@strategy(
    paper=(
        "Zhang et al., Self-Contrast: Better Reflection Through Inconsistent Solving Perspectives"
    ),
    year=2024,
    feedback=("intrinsic",),
    calls=_max_calls,
)
def self_contrast(
    perspectives: Count = 3,
    max_selected: Count = 3,
    contrast: Literal["pairwise", "all"] = "pairwise",
    temperature: Temperature | None = None,
) -> StrategyFn:
    """Solve from several self-chosen perspectives, contrast the disagreements, revise by a
    checklist."""
    if perspectives < 2:
        raise ConfigError(f"self_contrast needs perspectives >= 2, got {perspectives}")
    if max_selected < 2:
        raise ConfigError(f"self_contrast needs max_selected >= 2, got {max_selected}")
    if contrast not in ("pairwise", "all"):
        raise ConfigError(f"self_contrast contrast must be 'pairwise' or 'all', not {contrast!r}")
    config: dict[str, Any] = {} if temperature is None else {"temperature": temperature}

    async def run(ctx: StrategyContext) -> str:
        question = ctx.task.format_prompt(ctx.sample)
        views = await _perspectives(ctx, question, perspectives, config)
        solve_system = ctx.prompt("SOLVE_SYSTEM_PROMPT", SOLVE_SYSTEM_PROMPT)
        convos = [Conversation.start(ctx, system=solve_system.format(perspective=v)) for v in views]
        answers = await answer_all(ctx, convos, role="draft", round=0, **config)
        first, votes = majority(ctx, answers)
        ctx.notes["votes_by_round"] = [votes]
        ctx.checkpoint(first, round=0, note=f"majority of {len(answers)} perspectives")

        selected = _select(ctx, answers, max_selected)
        ctx.notes["selected"] = selected
        if len(selected) < 2:
            ctx.notes["stop_reason"] = "perspectives agree: nothing to contrast"
            return first
        if ctx.budget.max_rounds < 1:
            ctx.notes["stop_reason"] = "budget: max_rounds=0"
            return first

        solutions = [answers[i] for i in selected]
        contrasts = await _contrast(ctx, question, solutions, contrast, config)
        joined = "\n\n".join(f"Comparison {j + 1}:\n{c}" for j, c in enumerate(contrasts))
        checklist_convo = Conversation.start(
            ctx,
            prompt=ctx.prompt("CHECKLIST_PROMPT", CHECKLIST_PROMPT).format(
                contrasts=joined, question=question
            ),
        )
        checklist = await ask(ctx, checklist_convo, role="checklist", round=1, **config)
        record_feedback(
            ctx,
            Feedback(
                kind="intrinsic",
                source=f"self-contrast:{ctx.model.name}",
                text=checklist,
                round=1,
                details={"contrasts": contrasts, "selected": selected},
            ),
        )
        chosen = [convos[i] for i in selected]
        revise = ctx.prompt("REVISE_PROMPT", REVISE_PROMPT)
        for convo in chosen:
            convo.user(revise.format(checklist=checklist))
        revised = await answer_all(ctx, chosen, role="refine", round=1, **config)
        final, votes = majority(ctx, revised)
        ctx.notes["votes_by_round"].append(votes)
        ctx.checkpoint(final, round=1, note=f"majority of {len(revised)} revised solutions")
        return final

    return run


async def _perspectives(
    ctx: StrategyContext, question: str, n: int, config: dict[str, Any]
) -> list[str]:
    template = ctx.prompt("PERSPECTIVES_PROMPT", PERSPECTIVES_PROMPT)
    convo = Conversation.start(ctx, prompt=template.format(n=n, question=question))
    reply = await ask(ctx, convo, role="perspective", round=0, **config)
    parsed = parse_list(reply)[:n]
    if not parsed:
        tally(ctx, "perspective_parse_failures")
    elif len(parsed) < n:
        ctx.notes["perspectives_filled"] = n - len(parsed)
    return [*parsed, *islice(cycle(DEFAULT_PERSPECTIVES), n - len(parsed))]


def _select(ctx: StrategyContext, answers: list[str], k: int) -> list[int]:
    """Indices of one representative per distinct normalised answer, most common first
    (ties: first seen); each reply without an extractable answer is a group of its own."""
    groups: dict[str, list[int]] = {}
    for i, reply in enumerate(answers):
        value = ctx.task.extract(ctx.sample, reply).value
        groups.setdefault(f"answer:{value}" if value is not None else f"none:{i}", []).append(i)
    ranked = sorted(groups.items(), key=lambda kv: (-len(kv[1]), kv[0].startswith("none:")))
    return [members[0] for _, members in ranked][:k]


async def _contrast(
    ctx: StrategyContext, question: str, solutions: list[str], mode: str, config: dict[str, Any]
) -> list[str]:
    if mode == "all":
        body = "\n\n".join(f"Solution {i + 1}:\n{s}" for i, s in enumerate(solutions))
        template = ctx.prompt("CONTRAST_ALL_PROMPT", CONTRAST_ALL_PROMPT)
        prompts = [template.format(k=len(solutions), question=question, solutions=body)]
    else:
        pair = ctx.prompt("CONTRAST_PAIR_PROMPT", CONTRAST_PAIR_PROMPT)
        prompts = [pair.format(question=question, a=a, b=b) for a, b in combinations(solutions, 2)]

    def call(prompt: str) -> Callable[[], Awaitable[str]]:
        convo = Conversation.start(ctx, prompt=prompt)
        return lambda: ask(ctx, convo, role="contrast", round=1, **config)

    return await gather_calls(ctx, [call(p) for p in prompts], "contrast")
