"""``debate``: multi-agent debate, answer by majority.

Du, Li, Torralba, Tenenbaum & Mordatch 2023, "Improving Factuality and Reasoning in Language
Models through Multiagent Debate" (ICML 2024; arXiv:2305.14325). Procedure: ``agents`` copies
of the same model answer the question independently (round 0); then, for ``rounds`` rounds,
each agent is shown the other agents' latest answers and asked to give its answer again, on
its own growing conversation (all agents read the previous round's answers: the round is
simultaneous). The final answer is the majority over the agents' normalised answers, as in the
paper's evaluation.

Calls: ``agents * (rounds + 1)`` (defaults: 3 agents, 2 rounds = 9 calls). Checkpoints: round
k is the majority answer after round k (round 0 = majority of the independent answers).

Prompts are the paper's reference-code prompts (``gsm/gen_gsm.py``) with "math problem" made
task-agnostic; the task's own prompt supplies the answer format. With one agent the reference
code asks the agent to double-check itself, and so does this. Deviations: ``rounds`` counts
update rounds only (the reference code's ``rounds=2`` includes the first answers, i.e. one
update round; pass ``rounds=1`` to reproduce it). Temperature defaults to 1.0, the OpenAI
default the reference code ran with; round-0 samples are distinct calls (numbered sample
indices), so they differ even on a cached or deterministic backend.
"""

from __future__ import annotations

from reflectlab.errors import ConfigError
from reflectlab.feedback import Feedback
from reflectlab.strategy._context import StrategyContext
from reflectlab.strategy._multi import PeerMessage, answer_all, debate_round
from reflectlab.strategy._params import Count, Rounds, Temperature
from reflectlab.strategy._primitives import Conversation, majority, record_feedback
from reflectlab.strategy._registry import StrategyFn, strategy

#: Du et al. 2023, reference code: the message that shows an agent the other agents' answers.
PEERS_PROMPT = (
    "These are the solutions to the problem from other agents: {peers}\n\n"
    "Using the solutions from other agents as additional information, can you provide your "
    "answer to the problem? \n The original problem is: {question}"
)
#: One other agent's answer, as the reference code quotes it.
PEER_ANSWER = "\n\n One agent solution: ```{answer}```"
#: Du et al. 2023, reference code: what a lone agent is asked instead (no peers to read).
SELF_CHECK_PROMPT = (
    "Can you double check that your answer is correct. Please reiterate your answer, in the "
    "format the problem asks for."
)


@strategy(
    paper=(
        "Du et al., Improving Factuality and Reasoning in Language Models through Multiagent Debate"
    ),
    year=2023,
    feedback=("intrinsic",),
    calls=lambda p: p["agents"] * (p["rounds"] + 1),  # every agent answers, then each round
)
def debate(agents: Count = 3, rounds: Rounds = 2, temperature: Temperature = 1.0) -> StrategyFn:
    """N agents answer, then repeatedly update given the others' answers; majority wins."""
    if agents < 1:
        raise ConfigError(f"debate needs at least 1 agent, got agents={agents}")
    if rounds < 0:
        raise ConfigError(f"debate rounds must be >= 0, got rounds={rounds}")

    def peers_message(ctx: StrategyContext, question: str) -> PeerMessage:
        self_check = ctx.prompt("SELF_CHECK_PROMPT", SELF_CHECK_PROMPT)
        peer_answer = ctx.prompt("PEER_ANSWER", PEER_ANSWER)
        peers_prompt = ctx.prompt("PEERS_PROMPT", PEERS_PROMPT)

        def message(_i: int, others: list[str]) -> str:
            if not others:
                return self_check
            peers = "".join(peer_answer.format(answer=a) for a in others)
            return peers_prompt.format(peers=peers, question=question)

        return message

    async def run(ctx: StrategyContext) -> str:
        convos = [Conversation.start(ctx) for _ in range(agents)]
        message = peers_message(ctx, convos[0].question)
        latest = await answer_all(ctx, convos, role="draft", round=0, temperature=temperature)
        answer = _vote(ctx, latest, round=0)
        n_rounds = min(rounds, ctx.budget.max_rounds)
        if n_rounds < rounds:
            ctx.notes["stop_reason"] = f"budget: max_rounds={n_rounds}"
        for k in range(1, n_rounds + 1):
            record_feedback(
                ctx,
                Feedback(
                    kind="intrinsic",
                    source=f"debate-peers:{ctx.model.name}",
                    text=f"each agent read the other {agents - 1} agents' round-{k - 1} answers",
                    round=k,
                    details={"votes_before": ctx.notes["votes_by_round"][-1]},
                ),
            )
            latest = await debate_round(
                ctx, convos, latest, message, role="debate", round=k, temperature=temperature
            )
            answer = _vote(ctx, latest, round=k)
        return answer

    return run


def _vote(ctx: StrategyContext, answers: list[str], *, round: int) -> str:
    """Checkpoint the majority of this round's answers and keep its vote count."""
    winner, votes = majority(ctx, answers)
    ctx.notes.setdefault("votes_by_round", []).append(votes)
    ctx.checkpoint(winner, round=round, note=f"majority of {len(answers)} agents")
    return winner
