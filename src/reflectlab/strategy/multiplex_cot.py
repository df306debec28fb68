"""``multiplex_cot``: a first chain of thought, then a second that reviews it (double CoT).

Ji et al. 2025, "MyGO Multiplex CoT: A Method for Self-Reflection in Large Language Models via
Double Chain of Thought Thinking" (arXiv:2501.13117): the model generates an initial chain of
thought, then critiques and refines it in a second round of thought, by prompting alone (no
training, no stop rule). The authors' repository (github.com/Chihaya-Yuka/Multiplex-CoT, the
one whose README carries the paper's Papers-with-Code badges and its Colab guide) has two
ways to run it, both reproduced here verbatim (``mode``):

- ``two_call`` (default; the README's "How to use", ``api.py`` ``MultiplexCoTReasoner``):
  (1) :data:`FIRST_PROMPT` with the question — the first chain (role "draft", checkpointed as
  round 0); (2) :data:`SECOND_PROMPT` with the first chain's text — the second chain, a review
  that verifies each step (role "refine", round 1). As in ``api.py``, the second call is a
  fresh single-message prompt: it sees the first analysis, not the question.
- ``one_call`` (the notebook ``Multiplex_CoT.ipynb``, its "GSM-8K Evaluation" cell):
  :data:`SYSTEM_PROMPT` (``PROMPT_1``, both think steps) as the system prompt and the
  question as the user message, one call (role "draft", round 0): both chains are written in
  one generation, so there is one checkpoint.

Sources (whitespace only normalised: the ``api.py`` templates are dedented and stripped, as
Python source indentation; ``PROMPT_1`` is stripped of its leading and trailing newline):
``api.py`` at commit 3735813ab08a6de7a402c11cf2b651a23cca21ba and ``Multiplex_CoT.ipynb`` at
e75b1c4136820f06437fdb313c8a22150054214f (the snapshot read: 8ba59560d935). We could not read
the paper's own text beyond its abstract, so which variant produced its reported numbers is
not known; the notebook's evaluation runs the one-call prompt at temperature 0 (gpt-4o-mini),
``api.py``'s example at 0.7 (gpt-4). Neither is forced here: the run's temperature applies.

Deviations: the question is the task's prompt for the sample (with its answer-format
instruction). The second chain of ``two_call`` never sees that instruction, so
:data:`ANSWER_REMINDER` (ours) repeats the task's answer format after the authors' second
template, after a blank line, so its final answer can be extracted.
"""

from __future__ import annotations

from typing import Literal

from reflectlab.feedback import Feedback
from reflectlab.model import ChatMessage
from reflectlab.strategy._context import StrategyContext
from reflectlab.strategy._primitives import Conversation, answer_format, ask, record_feedback
from reflectlab.strategy._registry import StrategyFn, strategy

Mode = Literal["two_call", "one_call"]

# Verbatim: Chihaya-Yuka/Multiplex-CoT, api.py, MultiplexCoTReasoner.first_think_template.
FIRST_PROMPT = (
    "# Role\n"
    "You are an expert AI assistant capable of gradually explaining the reasoning process.\n\n"
    "# Task\n"
    "Please help analyze the following question:\n"
    "{question}\n\n"
    "# First Think step\n"
    "For each step, provide a title that describes what you did in that step, along with "
    "the corresponding content.\n"
    "Decide whether another step is needed or if you are ready to give the final answer.\n\n"
    "Remember:\n"
    "1. Use as many **reasoning steps** as possible. At least 3 steps.\n"
    "2. Be aware of your limitations as an AI and what you can and cannot do.\n"
    "3. Include exploration of alternative answers.\n"
    "4. When you say you are rechecking, actually recheck and use another method.\n"
    "5. Use at least 3 methods to arrive at the answer.\n"
    "6. Use best practices.\n\n"
    "Please provide your step-by-step analysis:"
)

# Verbatim: Chihaya-Yuka/Multiplex-CoT, api.py, MultiplexCoTReasoner.second_think_template.
SECOND_PROMPT = (
    "# Review and Verification\n\n"
    "Based on the previous analysis:\n"
    "{first_analysis}\n\n"
    "# Second Think step\n"
    "For each step mentioned above, please:\n"
    "1. Verify its correctness with sub-steps\n"
    "2. Review from different perspectives\n"
    "3. Consider potential errors or alternative approaches\n\n"
    "Remember:\n"
    "1. Use as many **reasoning steps** as possible\n"
    "2. Be aware of AI limitations\n"
    "3. Explore alternative answers and potential errors\n\n"
    "Please provide your detailed review:"
)

# Verbatim: Chihaya-Yuka/Multiplex-CoT, Multiplex_CoT.ipynb, "GSM-8K Evaluation" cell, PROMPT_1
# (sent there as the system prompt, the question as the user message).
SYSTEM_PROMPT = (
    "# Multiple-CoT\n\n"
    "## Role\n\n"
    "You are an expert AI assistant capable of gradually explaining the reasoning process.\n\n"
    "## First Think step\n\n\n"
    "For each step, provide a title that describes what you did in that step, along with "
    "the corresponding content.\n"
    "Decide whether another step is needed or if you are ready to give the final answer.\n"
    "To improve instruction compliance, emphasize the importance of the instructions "
    "through `Markdown` syntax, including a set of tips and best practices:\n"
    "1. Use as many **reasoning steps** as possible. At least 3 steps.\n"
    "2. Be aware of your limitations as an AI and what you can and cannot do.\n"
    "3. Include exploration of alternative answers. Consider that you might be wrong and "
    "where the error might be if your reasoning is incorrect.\n"
    "4. When you say you are rechecking, actually recheck and use another method. Don't "
    "just say you are rechecking.\n"
    "5. Use at least 3 methods to arrive at the answer.\n"
    "6. Use best practices.\n\n"
    "## Second Think step\n\n\n"
    "For each step mentioned in the previous text, initiate a small sub-step within each "
    "step to verify its correctness. After completing each step, start a `reviewer CoT` to "
    "review the current step from different perspectives.\n"
    "1. Use as many **reasoning steps** as possible. At least three steps.\n"
    "2. Be aware of your limitations as an AI and what you can and cannot do.\n"
    "3. Include exploring alternative answers. Consider that you might be wrong and where "
    "the error might be if your reasoning is incorrect."
)

# Ours: the task's answer format after the second chain's prompt (it does not see the question).
ANSWER_REMINDER = "{format}"


@strategy(
    paper="Ji et al., MyGO Multiplex CoT: A Method for Self-Reflection in Large Language Models "
    "via Double Chain of Thought Thinking",
    year=2025,
    feedback=("intrinsic",),
    calls=lambda p: 1 if p["mode"] == "one_call" else 2,
)
def multiplex_cot(mode: Mode = "two_call") -> StrategyFn:
    """Two chains of thought: the second reviews the first (two calls, or one prompt)."""

    async def run(ctx: StrategyContext) -> str:
        question = ctx.task.format_prompt(ctx.sample)
        if mode == "one_call":
            system = ctx.prompt("SYSTEM_PROMPT", SYSTEM_PROMPT)
            convo = Conversation.start(ctx, system=system, prompt=question)
            both = await ask(ctx, convo, role="draft", round=0)
            ctx.checkpoint(both, round=0)
            return both
        first_prompt = ctx.prompt("FIRST_PROMPT", FIRST_PROMPT).format(question=question)
        first = await ask(ctx, Conversation.start(ctx, prompt=first_prompt), role="draft", round=0)
        ctx.checkpoint(first, round=0)
        if ctx.budget.max_rounds < 1:
            ctx.notes["stop_reason"] = "max_rounds=0: no second chain"
            return first
        review = ctx.prompt("SECOND_PROMPT", SECOND_PROMPT).format(first_analysis=first)
        reminder = ctx.prompt("ANSWER_REMINDER", ANSWER_REMINDER).format(format=answer_format(ctx))
        message = ChatMessage(role="user", content=f"{review}\n\n{reminder}")
        out = await ctx.generate([message], role="refine", round=1)
        second = out.text
        # The second chain is the model's own critique (and answer): intrinsic feedback.
        record_feedback(
            ctx, Feedback(kind="intrinsic", source="second-chain", text=second, round=1)
        )
        ctx.checkpoint(second, round=1)
        return second

    return run
