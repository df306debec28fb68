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
from reflectlab.strategy._params import Rounds, Small
from reflectlab.strategy._primitives import Conversation, ask, evaluate_and_revise
from reflectlab.strategy._registry import StrategyFn, strategy
from reflectlab.strategy.retry import verify_answer

# After Shinn et al. 2023, HotPotQA reflection prompt ("diagnose a possible reason for failure
# and devise a new, concise, high level plan that aims to mitigate the same failure").
REFLECT_PROMPT = (
    "You are an advanced reasoning agent that can improve based on self-reflection. You will "
    "be given a previous trial in which you were given a task to solve. You were unsuccessful: "
    "your answer was judged wrong. In a few sentences, diagnose a possible reason for failure "
    "and devise a new, concise, high-level plan that aims to mitigate the same failure. Use "
    "complete sentences.\n\nPrevious trial:\nTask:\n{question}\n\nYour answer:\n{response}\n\n"
    "Evaluation:\n{feedback}\n\nReflection:"
)
# After the paper's REFLECTION_HEADER, which introduces the memory in the next trial's prompt.
REFLECTION_HEADER = (
    "You have attempted this task before and failed. The following reflection(s) give a plan "
    "to avoid failing in the same way you did previously. Use them to improve your strategy "
    "for solving the task.\n\nReflections:\n{reflections}"
)


def trial_prompt(task_prompt: str, memory: list[str]) -> str:
    """The prompt of a trial: the task prompt, then the reflections in memory (if any)."""
    if not memory:
        return task_prompt
    lines = "\n".join(f"- {r}" for r in memory)
    return f"{task_prompt}\n\n{REFLECTION_HEADER.format(reflections=lines)}"


@strategy(
    paper="Shinn et al., Reflexion: Language Agents with Verbal Reinforcement Learning",
    year=2023,
    feedback=("intrinsic", "critic", "tool", "oracle"),
)
def reflexion(
    max_rounds: Rounds = 3, feedback: FeedbackKind = "intrinsic", memory_size: Small = 3
) -> StrategyFn:
    """Trials with a verbal self-reflection, kept in a bounded memory, after each failure."""
    if memory_size < 1:
        raise ConfigError(f"reflexion needs memory_size >= 1, not {memory_size}")

    async def run(ctx: StrategyContext) -> str:
        task_prompt = ctx.task.format_prompt(ctx.sample)
        memory: deque[str] = deque(maxlen=memory_size)

        async def evaluate(response: str, k: int) -> Feedback:
            return await verify_answer(ctx, feedback, response, round=k)

        async def reflect_and_retry(response: str, fb: Feedback, k: int) -> str:
            text = REFLECT_PROMPT.format(question=task_prompt, response=response, feedback=fb.text)
            out = await ctx.generate(
                [ChatMessage(role="user", content=text)], role="reflect", round=k
            )
            # Never blank: the model layer rejects and retries an empty reply.
            memory.append(out.text.strip())
            ctx.notes["memory"] = list(memory)
            trial = Conversation.start(ctx, prompt=trial_prompt(task_prompt, list(memory)))
            return await ask(ctx, trial, role="refine", round=k)

        first = await ask(ctx, Conversation.start(ctx, prompt=task_prompt), role="draft", round=0)
        ctx.checkpoint(first, round=0)
        return await evaluate_and_revise(
            ctx, first, max_rounds=max_rounds, evaluate=evaluate, revise=reflect_and_retry
        )

    return run
