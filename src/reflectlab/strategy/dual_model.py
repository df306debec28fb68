"""``dual_model``: a Reasoner model refines under verbal feedback from a separate Critic model.

Li, Zhou, Lu, Tyen, Gui, Aloisi & He 2025, "Two Heads Are Better Than One: Dual-Model Verbal
Reflection at Inference-Time" (EMNLP 2025; arXiv:2502.19230), the DARS framework. Procedure:
the Reasoner writes an explicit step-by-step rationale and answer; the Critic, a different
model that did not write it, checks the rationale and, if it finds an error, points to the
erroneous step, explains why it is wrong and how to correct it; the Reasoner refines its
rationale given that feedback; this repeats until the Critic accepts or ``max_rounds``.

How this differs from ``self_refine(feedback="critic")``, which shares the loop
(:func:`critique_and_refine`): the roles are the paper's. The Reasoner is asked for numbered
reasoning steps, because DARS's Critic works on the reasoning path, not only the answer; the
Critic is told it is the critic of another model's reasoning and must localise the *first*
wrong step and explain the correction rather than re-solve or merely grade (the paper's
reflections are synthesised by contrasting a flawed path with a correct one, so they name
where the paths diverge); the Reasoner is told to weigh the Critic's feedback rather than
obey it. ``ctx.critic`` is required: without a second model this is not dual-model reflection,
so the strategy refuses (ConfigError) before any call.

Deviations: in the paper both models are fine-tuned (the Critic on synthetic contrastive
reflections, for automated student answer scoring); here both are prompted off-the-shelf
models, so gains depend on how good the critic model is. The Critic's verdict is read with
the shared verdict parser (``[[CORRECT]]``/``[[INCORRECT]]`` markers first); an unreadable
verdict never stops the loop early.

Calls: 1 + 2 per round (critic, refine); checkpoints: round 0 the first rationale, round k
the k-th refinement.
"""

from __future__ import annotations

from reflectlab.errors import ConfigError
from reflectlab.strategy._context import StrategyContext
from reflectlab.strategy._params import Rounds
from reflectlab.strategy._primitives import Conversation, ask, critique_and_refine
from reflectlab.strategy._registry import StrategyFn, strategy

# Role prompts after Li et al. 2025 (DARS): Reasoner rationale, Critic reflection, refinement.
REASONER_SUFFIX = (
    "\n\nReason step by step, numbering your steps (Step 1, Step 2, ...), then give the final "
    "answer in the format asked for."
)
CRITIC_PROMPT = (
    "You are the Critic in a Reasoner-Critic pair. The Reasoner, a different model, answered "
    "the task below. Check its reasoning step by step against the task.\n\n"
    "Task:\n{question}\n\nReasoner's reasoning and answer:\n{response}\n\n"
    "If a step is wrong, name the first wrong step, explain precisely why it is wrong and what "
    "the correct reasoning at that step would be; do not just state a different final "
    "answer. If the reasoning and the answer are correct, say so.\n"
    "End with [[CORRECT]] if the answer is correct, otherwise [[INCORRECT]]."
)
REFINE_PROMPT = (
    "The Critic reviewed your reasoning:\n\n{feedback}\n\n"
    "Reflect on this feedback. Where it identifies a real error, correct that step and "
    "everything that depends on it; where you are confident your step is right, keep it. Give "
    "your complete revised reasoning, numbered by step, and the final answer in the format "
    "the task asks for."
)


@strategy(
    paper=(
        "Li et al., Two Heads Are Better Than One: Dual-Model Verbal Reflection at Inference-Time"
    ),
    year=2025,
    feedback=("critic",),
)
def dual_model(max_rounds: Rounds = 3, stop_on_accept: bool = True) -> StrategyFn:
    """A Reasoner refines its step-by-step rationale under a separate Critic model's feedback."""

    async def run(ctx: StrategyContext) -> str:
        if ctx.critic is None:
            raise ConfigError(
                "dual_model needs a separate critic model (ctx.critic / --critic-model); "
                "for single-model refinement use self_refine"
            )
        prompt = ctx.task.format_prompt(ctx.sample) + ctx.prompt("REASONER_SUFFIX", REASONER_SUFFIX)
        convo = Conversation.start(ctx, prompt=prompt)
        draft = await ask(ctx, convo, role="draft", round=0)
        ctx.checkpoint(draft, round=0)
        return await critique_and_refine(
            ctx,
            convo,
            draft,
            kind="critic",
            max_rounds=max_rounds,
            self_prompt="",  # unused: the feedback always comes from the critic model
            critic_prompt=ctx.prompt("CRITIC_PROMPT", CRITIC_PROMPT),
            refine_prompt=ctx.prompt("REFINE_PROMPT", REFINE_PROMPT),
            stop_on_correct=stop_on_accept,
        )

    return run
