"""``progco``: program-driven verification (ProgVe) and program-driven refinement (ProgRe).

Song et al. 2025, "ProgCo: Program Helps Self-Correction of Large Language Models" (ACL 2025).
Procedure:

1. Draft (role "draft", round 0).
2. ProgVe: from the task alone — without seeing the answer, so the check is not biased by it —
   the model writes a verification program (role "verify", round 0): a function
   ``verify(answer, response)`` that checks every requirement of the task, for calculations by
   working backwards from the answer to the task's conditions. Each round k the program is
   executed on the current answer; it passes (stop), fails, or breaks.
3. ProgRe, when verification does not pass (round k), is a *dual* reflection, because the
   verifier can be wrong as well as the answer. As we read the paper: (a) the model reflects
   on the feedback and writes a temporary refined answer (role "refine"); (b) it contrasts
   that with its previous answer and states the insights (role "reflect"); (c) it writes the
   refined answer using the insights (role "refine", checkpointed as round k); (d) it reflects
   on and rewrites the verification program given the feedback (role "verify").
   ``dual_reflection=False`` keeps only (a): plain feedback-driven refinement, for ablations.
4. Repeat up to ``max_rounds`` (3 in the paper); stop when verification passes.

Deviation: the paper's verification program is a *pseudo*-program that the LLM itself
"executes"; here it is real Python run in the sandbox (never in this process) with a
``timeout_s`` limit. A harness appended to the program calls ``verify`` on the answer and prints
the verdict marker; a failed assertion also counts as a failed check. A program that crashes,
loops, returns something other than True/False, or is missing (counted in
``ctx.notes["missing_programs"]``) gives an "unknown" verdict: never a pass, and its error text
is the feedback that ProgRe reflects on. The temporary answers of step (a) are kept in
``ctx.notes["temporary_answers"]``, not checkpointed, so each round has one answer. Prompts are
zero-shot adaptations of the paper's.
"""

from __future__ import annotations

from reflectlab.feedback import CodeExecutionFeedback, Feedback, extract_python_code
from reflectlab.strategy._context import StrategyContext
from reflectlab.strategy._params import Rounds, Seconds
from reflectlab.strategy._primitives import (
    Conversation,
    ask,
    evaluate_and_revise,
    run_program,
    tally,
)
from reflectlab.strategy._registry import StrategyFn, strategy

# Song et al. 2025, ProgVe: a verification program generated from the task only; for
# calculations it reasons backwards from the answer to the task's conditions.
PROGVE_PROMPT = (
    "Write a Python verification program for the task below. Do not solve the task. Instead "
    "define a function `verify(answer: str, response: str) -> bool` that checks whether a "
    "proposed answer meets every requirement of the task: for a calculation, work backwards: "
    "put the answer into the task's conditions and check each one; for instructions, check "
    "each constraint. `answer` is the final answer taken from the response (a string) and "
    "`response` the full reply. Print what each check finds and return True only if every "
    "check passes. Reply with a single ```python block.\n\nTask:\n{question}"
)
# Song et al. 2025, ProgRe: reflect on the feedback (which may be wrong) and refine.
REFINE_PROMPT = (
    "A verification program checked your answer and reported:\n{feedback}\n\nThe verification "
    "may itself be wrong. Reflect on this feedback: if it reveals a real mistake, correct your "
    "answer; if your answer is right, keep it. Give the complete answer in the format the task "
    "asks for."
)
CONTRAST_PROMPT = (
    "Compare your previous answer with the one you just wrote. Where do they differ, and "
    "which reasoning is right? State the key insights in a few sentences."
)
FINAL_PROMPT = (
    "Using these insights, write your final answer to the original task. Give the complete "
    "answer in the format the task asks for."
)
PROGRAM_REFINE_PROMPT = (
    "When your verification program was run on the answer {answer!r}, it reported:\n"
    "{feedback}\n\nThe program may be wrong (a bug, a misread requirement) as well as the "
    "answer. Reflect on it and write a corrected `verify(answer, response)` function in a "
    "single ```python block; if the program is right, repeat it unchanged."
)
# Appended to the model's program: call verify() on the answer, print the verdict marker.
HARNESS = """

# --- reflectlab ProgCo harness: run the verification program on the answer ---
import inspect as _inspect
_ANSWER = {answer!r}
_RESPONSE = {response!r}
_n_params = len(_inspect.signature(verify).parameters)
_result = verify(_ANSWER, _RESPONSE) if _n_params >= 2 else verify(_ANSWER)
if _result not in (True, False):
    print(f"verify() returned {{_result!r}}, not True or False")
    raise SystemExit(3)
print("VERDICT: PASS" if _result else "VERDICT: FAIL")
"""


def harnessed(program: str, answer: str, response: str) -> str:
    """The model's program plus the harness that runs ``verify`` on this answer (embedded as
    Python string literals, so no answer text can become code)."""
    return program.rstrip() + HARNESS.format(answer=answer, response=response)


@strategy(
    paper="Song et al., ProgCo: Program Helps Self-Correction of Large Language Models",
    year=2025,
    feedback=("tool",),
)
def progco(
    max_rounds: Rounds = 3, dual_reflection: bool = True, timeout_s: Seconds = 10.0
) -> StrategyFn:
    """Verify with a self-written program; on failure, reflect on answer and program both."""
    source = CodeExecutionFeedback.with_timeout(timeout_s)

    async def run(ctx: StrategyContext) -> str:
        task_prompt = ctx.task.format_prompt(ctx.sample)
        solver = Conversation.start(ctx, prompt=task_prompt)
        verifier = Conversation.start(ctx, prompt=PROGVE_PROMPT.format(question=task_prompt))
        draft = await ask(ctx, solver, role="draft", round=0)
        ctx.checkpoint(draft, round=0)
        program = extract_python_code(await ask(ctx, verifier, role="verify", round=0))

        async def progve(response: str, k: int) -> Feedback:
            answer = ctx.task.extract(ctx.sample, response).value
            code = None if program is None else harnessed(program, answer or response, response)
            return await run_program(ctx, code, source, response=response, round=k)

        async def progre(response: str, fb: Feedback, k: int) -> str:
            nonlocal program
            solver.user(REFINE_PROMPT.format(feedback=fb.text))
            temporary = await ask(ctx, solver, role="refine", round=k)
            if not dual_reflection:
                return temporary
            ctx.notes.setdefault("temporary_answers", []).append(temporary)
            solver.user(CONTRAST_PROMPT)
            await ask(ctx, solver, role="reflect", round=k)
            solver.user(FINAL_PROMPT)
            refined = await ask(ctx, solver, role="refine", round=k)
            answer = ctx.task.extract(ctx.sample, response).value or response
            verifier.user(PROGRAM_REFINE_PROMPT.format(answer=answer, feedback=fb.text))
            rewritten = extract_python_code(await ask(ctx, verifier, role="verify", round=k))
            if rewritten is not None:
                program = rewritten
            elif program is not None:
                tally(ctx, "unparseable_program_rewrites")  # keep the previous program
            return refined

        return await evaluate_and_revise(
            ctx, draft, max_rounds=max_rounds, evaluate=progve, revise=progre
        )

    return run
