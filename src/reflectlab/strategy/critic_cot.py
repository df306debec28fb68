"""``critic_cot``: step-wise chain-of-thought critique, as a refine loop or as a vote filter.

Zheng et al. 2024, "Critic-CoT: Boosting the Reasoning Abilities of Large Language Model via
Chain-of-Thought Critic" (arXiv:2408.16326; Findings of ACL 2025). Prompts follow the authors'
code (github.com/AlignRM/Critic-CoT, ``src/run_math_vllm.py``). The solver writes its solution
as numbered steps ("Step [i]:"); the critic evaluates the attempt step by step and ends each
step's evaluation with "Step i is correct" or "Step i is incorrect"; the first incorrect step
and the critique of it drive a correction. Two modes, as in the paper (``mode``):

- ``iterative`` (critique-and-refine): draft (role "draft", round 0); each round k the critic
  judges the current attempt (role "feedback"); if no step is flagged the loop stops;
  otherwise the model refines the attempt given the criticism of the first flagged step
  (role "refine") and the attempt becomes its steps before that step plus the corrected
  steps (checkpointed as round k). Up to ``max_rounds`` rounds (the authors' code: 8); if the
  attempt is still flagged, the loop restarts from the original attempt, ``restarts`` times
  in all (the authors' code: 8 restarts; default 1 here, for cost). Round numbers keep
  counting across restarts, and the budget's ``max_rounds`` caps their total. A restart
  critiques the original attempt again (a fresh sample; the code reuses its first critique).
- ``filter`` (critic as filter): ``n`` solutions are sampled at ``temperature`` (the code's
  0.5); the critic judges each; candidates with a flagged step are dropped and the rest
  vote (answers compared after the task's extraction). As in the authors' evaluation, the
  vote falls back to all candidates when none survives, or when several answers survive but
  fewer than ``min(6, n // 16)`` candidates do. Round 0 is the plain vote over all ``n``
  (their Maj@N), round 1 the filtered vote.

Verdict parsing (the authors' rule, strict): a step is flagged only by "Step i is incorrect";
a step without either conclusion has no verdict. A critique that gives no verdict for any step
is unparseable: counted in ``ctx.notes["unparseable_critiques"]``, it is an "unknown" verdict —
it never stops the loop (the model then rewrites the whole attempt given that critique), and
in filter mode it does not reject (the authors drop only flagged candidates). Steps left
without a verdict are counted in ``ctx.notes["steps_without_verdict"]``. Where the critic
concludes about a step twice, its last conclusion counts (the code takes the first "correct").
An attempt with no "Step [i]:" markers is one step (counted in ``ctx.notes["unstepped"]``;
the code discards such samples).

Feedback: ``intrinsic`` (the solver critiques itself, as the paper's trained model does) or
``critic`` (the critic model). Deviations: the paper *trains* the model to critique and refine;
here the prompts are used on any model as they are. The authors prefix the critic's reply
with "Step 1" and the correction with "<correction>\\nStep"; a chat API cannot, so the
correction prompt asks for the ``<correction>`` block (and the task's answer format) in words.
Their solve prompt's "\\boxed{answer}" is replaced by the task's answer format.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from typing import Annotated, Literal

from pydantic import Field

from reflectlab.feedback import Feedback, FeedbackKind, FeedbackRequest, Verdict
from reflectlab.model import ChatMessage
from reflectlab.strategy._context import StrategyContext
from reflectlab.strategy._multi import gather_calls
from reflectlab.strategy._primitives import (
    Conversation,
    answer_format,
    ask,
    evaluate_and_revise,
    majority,
    sample_n,
    tally,
)
from reflectlab.strategy._registry import StrategyFn, strategy

Mode = Literal["iterative", "filter"]

# AlignRM/Critic-CoT src/run_math_vllm.py, solve prompt ("## Math problem ... Solve the problem
# step by step, marking each step as "Step [i]:"."); the \boxed format is the task's own.
SOLVE_PROMPT = (
    '## Problem\n{task}\n\n-----\nSolve the problem step by step, marking each step as "Step [i]:".'
)
# AlignRM/Critic-CoT src/run_math_vllm.py, the chain-of-thought critic prompt, verbatim.
CRITIC_PROMPT = (
    "How do you evaluate the following attempt with respect to the problem?\n\n<problem>\n"
    "{problem}\n</problem>\n\n<attempt>\n{attempt}\n</attempt>\n\n\n**Notes**:\n"
    " - Please think step by step.\n"
    " - Your reasoning should precede any claims or conclusions you make to avoid unwarranted "
    "assertions.\n"
    " - At the end of the evaluation for each step, YOU MUST articulate the conclusion using the "
    'format "Step [i] is correct" or "Step [i] is incorrect".'
)
# AlignRM/Critic-CoT src/run_math_vllm.py, the refine prompt, verbatim; then (ours) in words
# what their generation prefix "<correction>\nStep" does, and the task's answer format.
REFINE_PROMPT = (
    "How do you refine the following attempt with respect to the problem, given the "
    "criticism?\n\n<problem>\n{problem}\n</problem>\n\n<attempt>\n{attempt}\n</attempt>\n\n"
    "<criticism>\n{criticism}\n</criticism>\n\n"
    "Write the corrected solution from Step {step} on between <correction> and </correction>, "
    'marking each step as "Step [i]:". {format}'
)

# The authors' step split: "Step 3:", "**Step 3**:", "Step 7 (Corrected): ".
_STEP_SPLIT = re.compile(r"\n*\**Step [0-9]+[^:\n]*\**: ?")
_CORRECTION = re.compile(r"<correction>(.*?)(?:</correction>|$)", re.S)


def split_steps(text: str) -> list[str]:
    """The steps of an attempt marked "Step [i]:"; ``[]`` when there are no markers."""
    return [s.strip() for s in _STEP_SPLIT.split(text)[1:] if s.strip()]


def join_steps(steps: list[str]) -> str:
    return "\n\n".join(f"Step {i}: {s}" for i, s in enumerate(steps, 1))


def step_labels(critique: str, n_steps: int) -> list[int]:
    """Per step: 1 ("Step i is correct"), -1 ("Step i is incorrect") or 0 (no verdict); the
    critic's last conclusion about a step counts. Like the authors' ``parse_label``, labels
    stop at the first incorrect step."""
    labels: list[int] = []
    for i in range(1, n_steps + 1):
        found = re.findall(rf"\bStep {i} is (correct|incorrect)\b", critique, re.I)
        label = 0 if not found else (1 if found[-1].lower() == "correct" else -1)
        labels.append(label)
        if label == -1:
            break
    return labels


def labels_verdict(labels: list[int]) -> Verdict:
    if -1 in labels:
        return "incorrect"
    if 1 not in labels:
        return "unknown"
    return "correct"


def step_criticism(critique: str, step: int) -> str:
    """The critique of the flagged step: from its first mention to its "is incorrect"."""
    m = re.search(rf"\bStep {step}\b.*?\bStep {step} is incorrect\b\.?", critique, re.S | re.I)
    return m.group(0).strip() if m else critique.strip()


def parse_correction(reply: str) -> str:
    """The text of the ``<correction>`` block (to its end or the reply's end), else the reply."""
    m = _CORRECTION.search(reply)
    return (m.group(1) if m else reply).strip()


@strategy(
    paper="Zheng et al., Critic-CoT: Boosting the Reasoning Abilities of Large Language Model "
    "via Chain-of-Thought Critic",
    year=2024,
    feedback=("intrinsic", "critic"),
)
def critic_cot(
    mode: Mode = "iterative",
    feedback: Literal["intrinsic", "critic"] = "intrinsic",
    max_rounds: Annotated[int, Field(ge=1, le=16)] = 8,
    restarts: Annotated[int, Field(ge=1, le=8)] = 1,
    n: Annotated[int, Field(ge=1, le=64)] = 8,
    temperature: Annotated[float, Field(gt=0.0, le=2.0)] = 0.5,
) -> StrategyFn:
    """Step-wise critique: refine from the first flagged step, or filter candidates and vote."""
    kind: FeedbackKind = feedback

    async def critique_steps(
        ctx: StrategyContext, problem: str, attempt: str, k: int
    ) -> tuple[Feedback, list[str]]:
        steps = split_steps(attempt)
        if not steps:
            tally(ctx, "unstepped")
            steps = [attempt.strip()]
        text = ctx.prompt("CRITIC_PROMPT", CRITIC_PROMPT).format(
            problem=problem, attempt=join_steps(steps)
        )
        n_steps = len(steps)
        fb = await ctx.get_feedback(
            kind,
            FeedbackRequest(
                response=attempt,
                round=k,
                critique_messages=[ChatMessage(role="user", content=text)],
                parse=lambda reply: labels_verdict(step_labels(reply, n_steps)),
            ),
        )
        labels = step_labels(fb.text, n_steps)
        fb.details["labels"] = labels
        if 1 not in labels and -1 not in labels:
            tally(ctx, "unparseable_critiques")
        elif -1 not in labels and 0 in labels:
            tally(ctx, "steps_without_verdict", labels.count(0))
        return fb, steps

    async def iterative(ctx: StrategyContext, problem: str) -> str:
        solve = ctx.prompt("SOLVE_PROMPT", SOLVE_PROMPT)
        convo = Conversation.start(ctx, prompt=solve.format(task=problem))
        original = await ask(ctx, convo, role="draft", round=0)
        ctx.checkpoint(original, round=0)
        current_steps: dict[str, list[str]] = {}
        accepted = False

        async def evaluate(response: str, k: int) -> Feedback:
            nonlocal accepted
            fb, steps = await critique_steps(ctx, problem, response, k)
            current_steps[response] = steps
            accepted = fb.verdict == "correct"
            return fb

        async def refine(response: str, fb: Feedback, k: int) -> str:
            steps = current_steps[response]
            labels: list[int] = fb.details["labels"]
            # Unparseable critique: no step to start from, the whole attempt is rewritten.
            wrong = labels.index(-1) + 1 if -1 in labels else 1
            text = ctx.prompt("REFINE_PROMPT", REFINE_PROMPT).format(
                problem=problem,
                attempt=join_steps(steps),
                criticism=step_criticism(fb.text, wrong) if -1 in labels else fb.text.strip(),
                step=wrong,
                format=answer_format(ctx),
            )
            out = await ctx.generate(
                [ChatMessage(role="user", content=text)], role="refine", round=k
            )
            correction = parse_correction(out.text)
            return join_steps(steps[: wrong - 1] + (split_steps(correction) or [correction]))

        response, done = original, 0
        for restart in range(restarts):
            if restart:
                ctx.notes.pop("stop_reason", None)
                response = original
            response = await evaluate_and_revise(
                ctx,
                response,
                max_rounds=min(max_rounds, ctx.budget.max_rounds - done),
                evaluate=evaluate,
                revise=refine,
                round_offset=done,
            )
            done = ctx.checkpoints[-1].round
            ctx.notes["restarts_used"] = restart + 1
            if accepted or done >= ctx.budget.max_rounds:
                break
        return response

    async def filter_vote(ctx: StrategyContext, problem: str) -> str:
        solve = ctx.prompt("SOLVE_PROMPT", SOLVE_PROMPT)
        convo = Conversation.start(ctx, prompt=solve.format(task=problem))
        candidates = await sample_n(
            ctx, convo.messages, n, role="draft", round=0, temperature=temperature
        )
        plain, votes = majority(ctx, candidates)
        ctx.notes["votes"] = votes
        ctx.checkpoint(plain, round=0, note=f"majority of {n} before the critic")

        def judge(c: str) -> Callable[[], Awaitable[tuple[Feedback, list[str]]]]:
            return lambda: critique_steps(ctx, problem, c, 1)

        judged = await gather_calls(ctx, [judge(c) for c in candidates], "critic filter")
        kept = [
            c for c, (fb, _) in zip(candidates, judged, strict=True) if fb.verdict != "incorrect"
        ]
        ctx.notes["kept"] = len(kept)
        answers = {ctx.task.extract(ctx.sample, c).value for c in kept}
        if not kept or (len(answers) > 1 and len(kept) < min(6, n // 16)):
            ctx.notes["filter_fallback"] = True
            ctx.checkpoint(plain, round=1, note="critic kept too few: plain majority")
            return plain
        chosen, filtered_votes = majority(ctx, kept)
        ctx.notes["filtered_votes"] = filtered_votes
        ctx.checkpoint(chosen, round=1, note=f"majority of the {len(kept)} the critic kept")
        return chosen

    async def run(ctx: StrategyContext) -> str:
        problem = ctx.task.format_prompt(ctx.sample)
        if mode == "filter":
            return await filter_vote(ctx, problem)
        return await iterative(ctx, problem)

    return run
