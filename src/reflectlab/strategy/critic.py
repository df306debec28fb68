"""``critic``: verify with a tool, critique, correct; until the answer stops changing.

Gou et al. 2023, "CRITIC: Large Language Models Can Self-Correct with Tool-Interactive
Critiquing" (ICLR 2024). Procedure: the model drafts an answer (role "draft", round 0); each
round k it (1) verifies the current answer by interacting with a tool, (2) critiques the answer
in the light of the tool's output ("What's the problem with the above answer?": plausibility
first, then each step; role "feedback") and (3) writes a corrected answer (role "refine",
checkpointed as round k). It stops when a correction keeps the answer (``patience`` times in a
row) or after ``max_rounds``.

Tools (``tool``, used when ``use_tool=True``; provenance "tool"):

- ``python`` (default): the model writes a short Python program that recomputes or checks its
  answer (role "verify"); the program runs in the sandbox — never in this process — with a
  ``timeout_s`` limit, and its output or error is the evidence the critique reads. This is the
  paper's code-interpreter verification for math; a program that crashes, loops or is missing
  is evidence too (a missing one is counted in ``ctx.notes["missing_programs"]``).
- ``check``: the task's own label-free check (e.g. visible unit tests), no extra call.
- ``calculator``: the arithmetic claims in the answer, recomputed exactly.

``use_tool=False`` is the paper's "CRITIC w/o Tool" ablation: the same critique prompt without
any tool output (provenance "intrinsic").

Context (``context``): what the model sees each round.

- ``latest`` (default): the authors' code (microsoft/ProphetNet, ``CRITIC/src/program/critic.py``
  and ``CRITIC/src/qa/critic.py``) rebuilds the prompt every iteration from the question and
  the *latest* answer only ("criticize latest answer that is not None": the newest answer with
  an extractable final answer, else the draft), then the tool output, the critique and the
  correction; earlier rounds' critiques are not shown. It is the default because it is what
  the paper's results were produced with, and a prompt that does not grow keeps small models
  from drifting on their own earlier critiques.
- ``history``: one growing conversation (every earlier answer, tool output and critique
  stays in the prompt). Cheaper with a serving engine's prefix cache; not the paper's setup.

Deviations: in the paper's math setting the answer *is* a program, so executing it is the
verification; here answers are free text, so the model first writes a checking program (one
extra call per round). Prompts are zero-shot adaptations of the paper's few-shot ones. The
paper's QA code stops after two unchanged corrections and its math code runs all iterations;
the default here stops at the first (``patience=1``).
"""

from __future__ import annotations

from typing import Literal

from reflectlab.errors import ConfigError
from reflectlab.feedback import (
    CalculatorFeedback,
    CodeExecutionFeedback,
    Feedback,
    FeedbackRequest,
    extract_python_code,
)
from reflectlab.strategy._context import StrategyContext
from reflectlab.strategy._params import Rounds, Seconds, Small
from reflectlab.strategy._primitives import (
    Conversation,
    ask,
    critique,
    evaluate_and_revise,
    feedback_from,
    run_program,
)
from reflectlab.strategy._registry import StrategyFn, strategy

Tool = Literal["python", "check", "calculator"]
Context = Literal["latest", "history"]

# Gou et al. 2023: verification by the code interpreter (here the model writes the checker).
VERIFY_PROGRAM_PROMPT = (
    "Verify the answer above with a tool: write a short Python program that independently "
    "recomputes the answer from the data in the task (or checks it against every condition of "
    "the task) and prints what it finds. If the check confirms the answer, end by printing "
    "'VERDICT: PASS', otherwise 'VERDICT: FAIL'. Reply with a single ```python block."
)
# Gou et al. 2023: "What's the problem with the above answer?" — plausibility, then each step.
CRITIQUE_PROMPT = (
    "What's the problem with the above answer? First check whether the answer is plausible, "
    "then check each step of it against the task. Say clearly whether the answer is correct."
)
PYTHON_EVIDENCE_HEADER = "Output of your verification program:"
CHECK_EVIDENCE_HEADER = "Result of the task's own check:"
CALCULATOR_EVIDENCE_HEADER = "Calculator check of the arithmetic in your answer:"
#: The template that introduces each tool's output.
EVIDENCE_HEADERS = {
    "python": ("PYTHON_EVIDENCE_HEADER", PYTHON_EVIDENCE_HEADER),
    "check": ("CHECK_EVIDENCE_HEADER", CHECK_EVIDENCE_HEADER),
    "calculator": ("CALCULATOR_EVIDENCE_HEADER", CALCULATOR_EVIDENCE_HEADER),
}
# Gou et al. 2023: "Here's a better solution:" after the critique.
CORRECT_PROMPT = (
    "Based on this critique, write a better answer to the original task, or the same answer "
    "again if it is already correct. Give the complete answer in the format the task asks for."
)


@strategy(
    paper="Gou et al., CRITIC: Large Language Models Can Self-Correct with Tool-Interactive "
    "Critiquing",
    year=2023,
    feedback=("tool", "intrinsic"),
    uses_task_check=lambda p: bool(p.get("use_tool")) and p.get("tool") == "check",
    # draft; per round a checking program (the python tool), the critique, the correction
    calls=lambda p: 1 + (3 if p["use_tool"] and p["tool"] == "python" else 2) * p["max_rounds"],
)
def critic(
    max_rounds: Rounds = 3,
    use_tool: bool = True,
    tool: Tool = "python",
    patience: Small = 1,
    timeout_s: Seconds = 10.0,
    context: Context = "latest",
) -> StrategyFn:
    """Draft, then tool-verified critique -> correction until the answer stops changing."""
    if tool not in EVIDENCE_HEADERS:
        raise ConfigError(f"critic tool must be one of {sorted(EVIDENCE_HEADERS)}, not {tool!r}")
    if patience < 0:
        raise ConfigError(f"patience must be >= 0 (0: never stop early), not {patience}")
    executor = CodeExecutionFeedback.with_timeout(timeout_s)

    async def run(ctx: StrategyContext) -> str:
        tpl = ctx.prompt
        critique_prompt = tpl("CRITIQUE_PROMPT", CRITIQUE_PROMPT)
        convo = Conversation.start(ctx)
        answers: list[str] = []

        def latest_answer() -> str:
            """The newest answer with an extractable final answer (else the draft)."""
            for response in reversed(answers):
                if ctx.task.extract(ctx.sample, response).value is not None:
                    return response
            return answers[0]

        async def tool_feedback(response: str, k: int) -> Feedback:
            if tool == "python":
                convo.user(tpl("VERIFY_PROGRAM_PROMPT", VERIFY_PROGRAM_PROMPT))
                reply = await ask(ctx, convo, role="verify", round=k)
                program = extract_python_code(reply)
                return await run_program(ctx, program, executor, response=response, round=k)
            request = FeedbackRequest(response=response, round=k)
            if tool == "check":
                return await ctx.get_feedback("tool", request)
            return await feedback_from(ctx, CalculatorFeedback(), request)

        async def verify_and_critique(response: str, k: int) -> Feedback:
            nonlocal convo
            if context == "latest":  # the authors' code: question + latest answer only
                response = latest_answer()
                convo = Conversation.start(ctx).assistant(response)
            if not use_tool:  # "CRITIC w/o Tool": the same critique, no evidence
                fb = await critique(
                    ctx,
                    "intrinsic",
                    convo,
                    response,
                    round=k,
                    self_prompt=critique_prompt,
                    critic_prompt=critique_prompt,
                )
                convo.user(critique_prompt).assistant(fb.text)
                return fb
            fb = await tool_feedback(response, k)
            header = tpl(*EVIDENCE_HEADERS[tool])
            convo.user(f"{header}\n{fb.text}\n\n{critique_prompt}")
            fb.details["critique"] = await ask(ctx, convo, role="feedback", round=k)
            return fb

        async def correct(response: str, fb: Feedback, k: int) -> str:
            convo.user(tpl("CORRECT_PROMPT", CORRECT_PROMPT))
            answers.append(await ask(ctx, convo, role="refine", round=k))
            return answers[-1]

        answers.append(await ask(ctx, convo, role="draft", round=0))
        ctx.checkpoint(answers[0], round=0)
        return await evaluate_and_revise(
            ctx,
            answers[0],
            max_rounds=max_rounds,
            evaluate=verify_and_critique,
            revise=correct,
            stop_on_correct=False,
            stop_when_unchanged=patience,
        )

    return run
