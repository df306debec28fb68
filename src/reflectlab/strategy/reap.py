"""``reap``: Reflection, Explicit Problem Deconstruction and Advanced Prompting, in one prompt.

Lingo et al. 2024, "Enhancing LLM Problem Solving with REAP: Reflection, Explicit Problem
Deconstruction, and Advanced Prompting" (arXiv:2409.09415). Procedure: a single structured
prompt (the REAP template) is put before the problem, and the model answers it in one call
(role "draft", round 0), working through the template's sections in order:

1. **Reflection** on the query — the *literal interpretation rule* (read every statement
   exactly as given, assume nothing that is not stated), the *key insight check* (look for
   the piece of information that simplifies the problem or answers it directly), and the
   ethical check the paper includes;
2. **Explicit problem deconstruction** — the problem broken into its components (facts,
   conditions, unknowns) and the relations between them;
3. **Advanced prompting** — more than one solution path considered, the best one carried out,
   and the result checked against every condition before the final answer.

REAP's reflection happens *inside* one generation: there is no second call and no feedback
loop, so the run has one checkpoint (round 0) and compares with ``cot`` / ``direct`` at one
call each. No feedback kind: the model reflects on the query, nothing critiques an answer.

Deviations: the paper's template is long and its wording is not reproduced (we did not find
its text); :data:`REAP_PROMPT` is our condensed paraphrase of the components the paper names.
The paper's final-answer section is replaced by the task's own answer-format instruction, which
stays at the end of the prompt.
"""

from __future__ import annotations

from reflectlab.strategy._context import StrategyContext
from reflectlab.strategy._primitives import Conversation, ask
from reflectlab.strategy._registry import StrategyFn, strategy

# Paraphrase of the REAP template's components (Lingo et al. 2024, Sec. 3): not its wording.
REAP_PROMPT = (
    "Before you answer, work through the following steps and write each one out.\n\n"
    "1. Reflection.\n"
    "   - Literal interpretation: restate every statement of the problem exactly as given. "
    "Do not add assumptions or read in anything that is not stated.\n"
    "   - Key insight check: is there a piece of information that simplifies the problem or "
    "gives the answer directly? Say what it is, or that there is none.\n"
    "   - Ethical check: note any ethical concern the problem raises (usually none).\n"
    "2. Explicit problem deconstruction: list the components of the problem — the given "
    "facts, the conditions, the unknowns — and how they relate to each other.\n"
    "3. Advanced prompting: consider at least two ways to solve the problem, choose the most "
    "reliable, carry it out step by step, and check the result against every condition of "
    "the problem.\n"
    "4. Final answer.\n\n"
    "Problem:\n{task}"
)


@strategy(
    paper="Lingo et al., Enhancing LLM Problem Solving with REAP: Reflection, Explicit Problem "
    "Deconstruction, and Advanced Prompting",
    year=2024,
)
def reap() -> StrategyFn:
    """One structured prompt: reflect on the query, deconstruct it, solve it several ways."""

    async def run(ctx: StrategyContext) -> str:
        prompt = ctx.prompt("REAP_PROMPT", REAP_PROMPT).format(
            task=ctx.task.format_prompt(ctx.sample)
        )
        reply = await ask(ctx, Conversation.start(ctx, prompt=prompt), role="draft", round=0)
        ctx.checkpoint(reply, round=0)
        return reply

    return run
