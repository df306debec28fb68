"""``progco``: program-driven verification (ProgVe) and program-driven refinement (ProgRe).

Song et al. 2025, "ProgCo: Program Helps Self-Correction of Large Language Models" (ACL 2025),
as the authors' code does it (github.com/songxiaoshuai/progco: ``gsm8k/progco_infer_main.py``,
``MATH/...``, and ``ifeval/progco_infer_main.py``). Procedure:

1. Draft (role "draft", round 0).
2. ProgVe: from the task alone — without seeing the answer — the model writes a verification
   program by *reverse reasoning* (role "verify", round 0): start from the answer, deduce
   backwards with the task's known conditions and check that the other conditions hold. Each
   round k the program is executed on the current answer; it passes (stop), fails or breaks.
3. When it does not pass (round k): the verification result is turned into plain-language
   feedback (role "feedback": "extract key information from the execution ... into natural
   language"), and ProgRe refines:

   - **dual** (the paper's ProgRe, used on GSM8K and MATH): the *response* is reflected on and
     rewritten from a fresh prompt with the problem, the answer and the feedback, told that the
     feedback may be wrong (role "refine"; the ``[New Solution]`` part is kept); the
     *verification program* is reflected on and rewritten too (role "verify"; "if the code is
     correct, repeat it word for word"). Only **if the refined answer differs** from the
     previous one, the two are contrasted (role "reflect": core differences and 1-3 key points)
     and the answer is **regenerated from a fresh prompt with the problem and the key points**
     (role "refine"), which is the round's answer.
   - **vanilla** (what the authors ran on IFEval: "since complex reasoning is not involved, we
     only use the combination of ProgVe and vanilla refinement"): feedback as revision
     suggestions, one revision of the response, the program kept.

   ``dual_reflection=None`` (default) picks as the paper did: vanilla for free-text
   (instruction-following) tasks, dual for the others; ``True``/``False`` force one.
4. Repeat up to ``max_rounds`` (3 in the paper); stop when verification passes.

Deviations: the paper's verification program is a pseudo-program that the LLM itself
"executes"; here it is real Python run in the sandbox (never in this process) with a
``timeout_s`` limit, so one "execution" call of the paper is replaced by the sandbox run. A
harness appended to the program calls ``verify`` on the answer (a number for numeric tasks, as
in the paper's examples, else the string; ``verify(answer, response)`` also gets the full reply)
and prints the verdict marker. A program that crashes, loops, returns something other than
True/False, or is missing (counted in ``ctx.notes["missing_programs"]``) gives an "unknown"
verdict: never a pass, and its error text is what the feedback step explains. The contrast's
two solutions are shown in a seeded random order (the paper shuffles them). Refined answers
replaced by a regeneration are kept in ``ctx.notes["temporary_answers"]``, not checkpointed, so
each round has one answer. Prompts are zero-shot adaptations of the authors' few-shot ones.
"""

from __future__ import annotations

import random
import re

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

# Song et al. 2025, ProgVe (authors' gen_verify_code prompt): reverse-reasoning verification.
PROGVE_PROMPT = (
    "You are an expert in reverse reasoning verification. Write an executable Python "
    "verification function for an answer to the task below. Do not solve the task.\n\n"
    "Reverse reasoning starts from the given answer rather than from the initial conditions: "
    "assume the answer is correct, deduce backwards from it with the task's known conditions, "
    "and check whether the other conditions and constraints of the task are satisfied. If they "
    "all are, the answer is verified.\n\n"
    "Define `verify(answer)` that starts from `answer` (the final answer: a number for a "
    "numeric task, else a string) and returns True or False; for a task of instructions, "
    "define `verify(answer, response)` and check each constraint on `response`, the full "
    "reply. First write the reverse verification approach as comments, then the code; print "
    "what each check finds. Reply with a single ```python block.\n\nTask:\n{question}"
)
# Authors' Feebacker: the verification result in natural language.
FEEDBACK_PROMPT = (
    "Extract key information from the execution process of the verification code and convert "
    "it into natural language form.\n\n[Problem]\n{question}\n\n[Verification Code]\n"
    "{program}\n\n[Execution of Verification Code]\n{execution}\n"
)
# Authors' ProgRe response refiner (system prompt + input template).
REFINE_SYSTEM = (
    "Your task is to reflect on whether a solution is correct. Given a problem, a solution and "
    "feedback from a verification function: the solution did not pass the verification, so "
    "either the solution or the verification function, or both, contain errors.\n"
    "1. Reflect on the initial solution: compare the solution and the feedback in detail, "
    "examine the logic and accuracy of the solution step by step, and consider whether the "
    "errors lie with the feedback or with the solution. If the solution has no errors but the "
    "feedback does, say that the solution is correct.\n"
    "2. Provide a new solution: if the initial solution is correct, repeat it; otherwise revise "
    "it based on your reflection. You cannot refuse to give a new solution.\n\n"
    "Output exactly:\n[Reflection]\n<detailed reflection>\n\n[New Solution]\n<complete solution>"
)
REFINE_PROMPT = (
    "Reflect on the initial solution and provide a new solution.\n\n[Problem]\n{question}\n\n"
    "[Initial Solution]\n(Remember, feedback is not always correct.)\n{response}\n\n"
    "[Feedback]\n{feedback}\n"
)
# Authors' ContrastResponse: compare two different answers, extract key points.
CONTRAST_PROMPT = (
    "You are an expert at comparing and extracting key points. For the same problem, two "
    "solutions give different answers. Ignore surface differences in expression; compare "
    "their core ideas, key steps and final results, and summarise the key points to note when "
    "solving the problem (1-3 points, specific and helpful for writing a better solution).\n\n"
    "[Problem]\n{question}\n\n[Solution1]\n{solution_1}\n\n[Solution2]\n{solution_2}\n\n"
    "Output format:\n[Comparative Analysis Process]\n...\n\n[Core Differences in Solutions]\n"
    "...\n\n[Key Points to Note When Solving the Problem]\n1. ...\n"
)
# Authors' gen_response_with_insights_template: a fresh prompt with the problem and key points.
REGENERATE_PROMPT = (
    "Answer the following question:\n\n[Problem]\n{question}\n\n"
    "[Key Points to Note When Solving the Problem]\n{insights}\n\n[Solution]\n"
)
# Authors' CodeRefiner: reflect on the verification program, repeat it if it is right.
PROGRAM_REFINE_PROMPT = (
    "Reflect on the initial verification code and provide a new verification code. The code "
    "did not pass when verifying the solution below; the error may come from the solution or "
    "from the verification code. Examine the code's logic step by step; if it is correct, "
    "repeat it word for word, otherwise revise it (keep the same function signature and "
    "detailed comments).\n\n[Problem]\n{question}\n\n[Initial Verification Code]\n{program}\n\n"
    "[Solution]\n{response}\n\n[Verification Process]\n{execution}\n\n"
    "Output exactly:\n[Reflection]\n<reflection>\n\n[New Verification Code]\n```python\n...\n```"
)
# Authors' IFEval feedback_template and refine_template (vanilla refinement).
VANILLA_FEEDBACK_PROMPT = (
    "You are an expert in formulating suggestions. Given an initial response to a query, "
    "summarise modification suggestions for it from the execution process and result of the "
    "verification function. Only summarise suggestions, do not modify the response; take them "
    "from the verification's error messages, not your own evaluation; make them clear and "
    "specific. Output only the suggestions.\n\n[Query]\n{question}\n\n[Initial Response]\n"
    "{response}\n\n[Verification Function]\n{program}\n\n[Verification Function Execution]\n"
    "{execution}\n\n[Revision Suggestions]\n"
)
VANILLA_REFINE_PROMPT = (
    "You are a revision expert. Given a query and an initial response, optimise the response "
    "based on the feedback: modify only the issues the feedback points out, keep the structure "
    "and style otherwise, make sure it still answers the query, and output only the revised "
    "response.\n\n[Query]\n{question}\n\n[Initial Response]\n{response}\n\n"
    "[Feedback on the Initial Response]\n{feedback}\n\n[Revised Response]\n"
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
_KEY_POINTS = "[Key Points to Note When Solving the Problem]"
_NUMBERED = re.compile(r"^\s*\d+\.\s*(.+?)\s*$", re.M)


def harnessed(
    program: str, answer: str | int | float, response: str, harness: str = HARNESS
) -> str:
    """The model's program plus the harness that runs ``verify`` on this answer (embedded as
    Python literals by the default :data:`HARNESS`, so no answer text can become code). The
    harness is a template like the prompts (it is run in the sandbox, never sent to a model)."""
    return program.rstrip() + harness.format(answer=answer, response=response)


def answer_value(text: str, numeric: bool) -> str | int | float:
    """The answer as the program receives it: a number when the task is numeric and the
    extracted answer parses as one (the paper's programs compute with it), else the text."""
    if numeric:
        try:
            number = float(text.replace(",", ""))
        except ValueError:
            return text
        return int(number) if number.is_integer() else number
    return text


def section(reply: str, header: str) -> str:
    """What follows ``header`` in a reply (the whole reply when the header is missing, as in
    the authors' parsers)."""
    return reply.split(header, 1)[1].strip() if header in reply else reply.strip()


def key_points(reply: str) -> str:
    """The numbered key points of a contrast reply, renumbered (the authors' extract_insights);
    the section's text when it has no numbered items."""
    points = section(reply, _KEY_POINTS)
    items = _NUMBERED.findall(points)
    return "\n".join(f"{i}. {p}" for i, p in enumerate(items, 1)) if items else points


@strategy(
    paper="Song et al., ProgCo: Program Helps Self-Correction of Large Language Models",
    year=2025,
    feedback=("tool",),
    calls=lambda p: 2 + 4 * p["max_rounds"],
)
def progco(
    max_rounds: Rounds = 3, dual_reflection: bool | None = None, timeout_s: Seconds = 10.0
) -> StrategyFn:
    """Verify with a self-written program; on failure, reflect on answer and program both."""
    source = CodeExecutionFeedback.with_timeout(timeout_s)

    async def run(ctx: StrategyContext) -> str:
        tpl = ctx.prompt
        dual = ctx.task.answer_kind != "text" if dual_reflection is None else dual_reflection
        ctx.notes["refinement"] = "dual" if dual else "vanilla"
        question = ctx.task.format_prompt(ctx.sample)
        draft = await ask(ctx, Conversation.start(ctx, prompt=question), role="draft", round=0)
        ctx.checkpoint(draft, round=0)
        verifier = Conversation.start(
            ctx, prompt=tpl("PROGVE_PROMPT", PROGVE_PROMPT).format(question=question)
        )
        program = extract_python_code(await ask(ctx, verifier, role="verify", round=0))

        def answer_of(response: str) -> str | None:
            return ctx.task.extract(ctx.sample, response).value

        async def one_shot(text: str, role: str, k: int, system: str | None = None) -> str:
            convo = Conversation.start(ctx, system=system, prompt=text)
            return await ask(ctx, convo, role=role, round=k)

        async def progve(response: str, k: int) -> Feedback:
            value = answer_value(answer_of(response) or response, ctx.task.answer_kind == "number")
            harness = tpl("HARNESS", HARNESS)
            code = None if program is None else harnessed(program, value, response, harness)
            return await run_program(ctx, code, source, response=response, round=k)

        async def plain_feedback(response: str, fb: Feedback, k: int) -> str:
            if program is None:  # nothing ran: the note saying so is the feedback
                return fb.text
            name, default = (
                ("FEEDBACK_PROMPT", FEEDBACK_PROMPT)
                if dual
                else ("VANILLA_FEEDBACK_PROMPT", VANILLA_FEEDBACK_PROMPT)
            )
            text = tpl(name, default).format(
                question=question, response=response, program=program, execution=fb.text
            )
            return await one_shot(text, "feedback", k)

        async def refine_program(response: str, fb: Feedback, k: int) -> None:
            nonlocal program
            text = tpl("PROGRAM_REFINE_PROMPT", PROGRAM_REFINE_PROMPT).format(
                question=question,
                program=program or "(none: no program was found)",
                response=response,
                execution=fb.text,
            )
            reply = await one_shot(text, "verify", k)
            rewritten = extract_python_code(section(reply, "[New Verification Code]"))
            if rewritten is not None:
                program = rewritten
            else:
                tally(ctx, "unparseable_program_rewrites")  # keep the previous program

        async def contrast_and_regenerate(old: str, new: str, k: int) -> str:
            pair = [old, new]
            random.Random(f"{ctx.sample.id}:{k}").shuffle(pair)
            text = tpl("CONTRAST_PROMPT", CONTRAST_PROMPT).format(
                question=question, solution_1=pair[0], solution_2=pair[1]
            )
            insights = key_points(await one_shot(text, "reflect", k))
            ctx.notes.setdefault("key_points", []).append(insights)
            text = tpl("REGENERATE_PROMPT", REGENERATE_PROMPT).format(
                question=question, insights=insights
            )
            return await one_shot(text, "refine", k)

        async def progre(response: str, fb: Feedback, k: int) -> str:
            feedback = await plain_feedback(response, fb, k)
            if not dual:
                text = tpl("VANILLA_REFINE_PROMPT", VANILLA_REFINE_PROMPT).format(
                    question=question, response=response, feedback=feedback
                )
                return await one_shot(text, "refine", k)
            text = tpl("REFINE_PROMPT", REFINE_PROMPT).format(
                question=question, response=response, feedback=feedback
            )
            system = tpl("REFINE_SYSTEM", REFINE_SYSTEM)
            refined = section(await one_shot(text, "refine", k, system), "[New Solution]")
            await refine_program(response, fb, k)
            if answer_of(refined) == answer_of(response):
                return refined  # the verification result did not change the answer: no contrast
            ctx.notes.setdefault("temporary_answers", []).append(refined)
            return await contrast_and_regenerate(response, refined, k)

        return await evaluate_and_revise(
            ctx, draft, max_rounds=max_rounds, evaluate=progve, revise=progre
        )

    return run
