"""``reflexion``: trial -> evaluate -> verbal self-reflection into memory -> next trial.

Shinn et al. 2023, "Reflexion: Language Agents with Verbal Reinforcement Learning" (NeurIPS).
Procedure: the actor attempts the task (trial 0, role "draft"); an evaluator judges the trial;
if it failed, the model writes a short self-reflection — a diagnosis of the failure and a
high-level plan to avoid it (role "reflect", with :data:`REFLECT_PROMPT`, which sees the task,
the failed answer and the evaluator's feedback text) — that is stored in an episodic memory;
the next trial's prompt includes the memory (role "refine"). It stops when the evaluator says
success or after ``max_rounds`` further trials. The memory is bounded: the paper keeps the last
1-3 reflections (``memory_size``, default 3).

Evaluator (``feedback``): on its reasoning benchmark (HotPotQA) the paper's evaluator was exact
match against the gold answer — an **oracle**; ``feedback="oracle"`` reproduces that and the run
is marked oracle-assisted. On programming it used self-generated unit tests, the analogue of
``feedback="tool"`` (the task's label-free check). ``intrinsic`` (the default: label-free on any
task) asks the model itself to verify, ``critic`` asks the critic model; both use the yes/no
verification of :mod:`reflectlab.strategy.retry`, so ``retry`` with the same feedback kind is the
exact no-reflection control.

The model is told its answer "was judged wrong" only when the evaluator said so: after an
unparseable verdict ("unknown": no ``Correct: yes|no`` line, counted in
``ctx.notes["unknown_verdicts"]``) the reflection prompt says the answer could not be confirmed
(:data:`OUTCOME_UNVERIFIED`), and the next trial's header says so too
(:data:`UNVERIFIED_HEADER`), instead of asserting a failure nobody observed.

Trials are sampled at ``temperature`` (default 0.7, as ``retry``): the first trial is the very
request of retry's first attempt (:func:`reflectlab.strategy.retry.sample_attempt`), so with the
same ``feedback`` and ``temperature`` the cache serves both the same draft and ``retry`` is the
exact no-reflection control. The paper ran its actor at temperature 0; ``temperature=0`` is
allowed here (then retry, which must resample, cannot be its control).

Deviations: prompts are zero-shot adaptations of the paper's HotPotQA reflection prompts (the
paper used few-shot reflection examples); the reflections are placed after the task prompt
rather than before it, so successive trials share the task prompt as a cacheable prefix.
"""

from __future__ import annotations

from collections import deque

from reflectlab.errors import ConfigError
from reflectlab.feedback import Feedback, FeedbackKind
from reflectlab.model import ChatMessage
from reflectlab.strategy._context import StrategyContext
from reflectlab.strategy._params import Rounds, Small, Temperature
from reflectlab.strategy._primitives import Conversation, ask, evaluate_and_revise
from reflectlab.strategy._registry import StrategyFn, strategy
from reflectlab.strategy.retry import CRITIC_VERIFY_PROMPT as CRITIC_VERIFY_PROMPT
from reflectlab.strategy.retry import VERIFY_PROMPT as VERIFY_PROMPT
from reflectlab.strategy.retry import sample_attempt, verify_answer

# After Shinn et al. 2023, HotPotQA reflection prompt ("diagnose a possible reason for failure
# and devise a new, concise, high level plan that aims to mitigate the same failure").
REFLECT_PROMPT = (
    "You are an advanced reasoning agent that can improve based on self-reflection. You will "
    "be given a previous trial in which you were given a task to solve. {outcome} In a few "
    "sentences, diagnose a possible reason for failure and devise a new, concise, high-level "
    "plan that aims to mitigate the same failure. Use complete sentences.\n\nPrevious trial:\n"
    "Task:\n{question}\n\nYour answer:\n{response}\n\nEvaluation:\n{feedback}\n\nReflection:"
)
#: ``{outcome}`` after an "incorrect" verdict (the paper's wording).
OUTCOME_FAILED = "You were unsuccessful: your answer was judged wrong."
#: ``{outcome}`` after an unparseable ("unknown") verdict: no failure is claimed.
OUTCOME_UNVERIFIED = (
    "Your answer could not be confirmed as correct: the evaluation below gave no clear verdict, "
    "so the answer may or may not be wrong."
)
# After the paper's REFLECTION_HEADER, which introduces the memory in the next trial's prompt.
REFLECTION_HEADER = (
    "You have attempted this task before and failed. The following reflection(s) give a plan "
    "to avoid failing in the same way you did previously. Use them to improve your strategy "
    "for solving the task.\n\nReflections:\n{reflections}"
)
#: The header when some reflection in memory followed an unconfirmed (not a failed) trial.
UNVERIFIED_HEADER = (
    "You have attempted this task before without a confirmed success. The following "
    "reflection(s) give a plan to avoid possible mistakes of your earlier attempts. Use them "
    "to improve your strategy for solving the task.\n\nReflections:\n{reflections}"
)


def trial_prompt(task_prompt: str, memory: list[str], header: str = REFLECTION_HEADER) -> str:
    """The prompt of a trial: the task prompt, then the reflections in memory (if any)."""
    if not memory:
        return task_prompt
    lines = "\n".join(f"- {r}" for r in memory)
    return f"{task_prompt}\n\n{header.format(reflections=lines)}"


@strategy(
    paper="Shinn et al., Reflexion: Language Agents with Verbal Reinforcement Learning",
    year=2023,
    feedback=("intrinsic", "critic", "tool", "oracle"),
    calls=lambda p: 1 + 3 * p["max_rounds"],  # attempt; evaluate, reflect, retry
)
def reflexion(
    max_rounds: Rounds = 3,
    feedback: FeedbackKind = "intrinsic",
    memory_size: Small = 3,
    temperature: Temperature = 0.7,
) -> StrategyFn:
    """Trials with a verbal self-reflection, kept in a bounded memory, after each failure."""
    if memory_size < 1:
        raise ConfigError(f"reflexion needs memory_size >= 1, not {memory_size}")

    async def run(ctx: StrategyContext) -> str:
        task_prompt = ctx.task.format_prompt(ctx.sample)
        # (reflection, whether its trial was judged wrong), the last memory_size of them
        memory: deque[tuple[str, bool]] = deque(maxlen=memory_size)

        async def evaluate(response: str, k: int) -> Feedback:
            return await verify_answer(ctx, feedback, response, round=k)

        async def reflect_and_retry(response: str, fb: Feedback, k: int) -> str:
            failed = fb.verdict == "incorrect"
            outcome = (
                ctx.prompt("OUTCOME_FAILED", OUTCOME_FAILED)
                if failed
                else ctx.prompt("OUTCOME_UNVERIFIED", OUTCOME_UNVERIFIED)
            )
            text = ctx.prompt("REFLECT_PROMPT", REFLECT_PROMPT).format(
                outcome=outcome, question=task_prompt, response=response, feedback=fb.text
            )
            out = await ctx.generate(
                [ChatMessage(role="user", content=text)], role="reflect", round=k
            )
            # Never blank: the model layer rejects and retries an empty reply.
            memory.append((out.text.strip(), failed))
            ctx.notes["memory"] = [r for r, _ in memory]
            header = (
                ctx.prompt("REFLECTION_HEADER", REFLECTION_HEADER)
                if all(f for _, f in memory)
                else ctx.prompt("UNVERIFIED_HEADER", UNVERIFIED_HEADER)
            )
            prompt = trial_prompt(task_prompt, [r for r, _ in memory], header)
            trial = Conversation.start(ctx, prompt=prompt)
            return await ask(ctx, trial, role="refine", round=k, temperature=temperature)

        first = await sample_attempt(ctx, temperature=temperature, round=0)
        ctx.checkpoint(first, round=0)
        return await evaluate_and_revise(
            ctx, first, max_rounds=max_rounds, evaluate=evaluate, revise=reflect_and_retry
        )

    return run
