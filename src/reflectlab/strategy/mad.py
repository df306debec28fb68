"""``mad``: Multi-Agent Debate with a devil's advocate and a judge.

Liang, He, Jiao, Wang, Wang, Wang, Yang, Shi & Tu 2023, "Encouraging Divergent Thinking in
Large Language Models through Multi-Agent Debate" (EMNLP 2024; arXiv:2305.19118). Procedure:
an affirmative debater answers the question; a negative debater, told to disagree, argues
against it; then, each round, each side answers the other's latest argument ("Do you agree
with my perspective?"). After every round a moderator (the judge) decides whether there is a
clear preference for one answer; if so the debate ends early with the moderator's answer
(adaptive break). After ``max_rounds`` (paper: 3) without a decision, a judge first lists the
answer candidates, then extracts the final answer.

Roles and calls: affirmative opening ``draft`` round 0; per round k the debaters (``debate``;
in round 1 only the negative speaks) and the moderator (``judge``). Worst case: 1 + 1 + 1 +
3 * (max_rounds - 1) + 2 calls (11 with the defaults); a decision in round 1 costs 3.
The moderator and the final judge are ``ctx.judge`` if set, else the solver model; a separate
judge model makes its rulings ``critic`` feedback, the same model ``intrinsic``.

Checkpoints: round 0 the affirmative opening; round k the moderator's answer if it decided,
else the affirmative side's latest answer; round ``max_rounds + 1`` the final judge's answer.

Prompts are the reference code's (``code/utils/config4all.json``), with the task prompt as the
debate topic. The judge's JSON is parsed strictly (fenced JSON tolerated, keys matched
case-insensitively); an unreadable ruling never ends the debate and is counted in
``notes["judge_parse_failures"]``. The debate ends early only when the moderator states a
preference ("Yes") *and* gives an answer — the reference code checks only the answer.
Deviations: the final judge reads both sides' last-round arguments (the paper says "the
debate history"; the reference code passes the first-round ones); a ``debate_answer`` from
which the task cannot extract an answer is replaced by the supported side's latest answer
(counted in ``notes["judge_answer_unusable"]``). Temperature defaults to 0, as the reference
code ran.
"""

from __future__ import annotations

from dataclasses import dataclass

from reflectlab.errors import ConfigError
from reflectlab.feedback import Feedback, FeedbackKind
from reflectlab.model import Model
from reflectlab.strategy._context import StrategyContext
from reflectlab.strategy._multi import debate_round
from reflectlab.strategy._params import Rounds, Temperature
from reflectlab.strategy._parsing import field, parse_json_object
from reflectlab.strategy._primitives import Conversation, ask, record_feedback, tally
from reflectlab.strategy._registry import StrategyFn, strategy

# Liang et al. 2023, reference code (config4all.json); "{topic}" is the task prompt.
PLAYER_META_PROMPT = (
    "You are a debater. Hello and welcome to the debate. It's not necessary to fully agree "
    "with each other's perspectives, as our objective is to find the correct answer.\n"
    "The debate topic is stated as follows:\n{topic}"
)
MODERATOR_META_PROMPT = (
    "You are a moderator. There will be two debaters involved in a debate. They will present "
    'their answers and discuss their perspectives on the following topic: "{topic}"\n'
    "At the end of each round, you will evaluate answers and decide which is correct."
)
AFFIRMATIVE_PROMPT = "{topic}"
NEGATIVE_PROMPT = "{aff_ans}\n\nYou disagree with my answer. Provide your answer and reasons."
DEBATE_PROMPT = (
    "{oppo_ans}\n\nDo you agree with my perspective? Please provide your reasons and answer."
)
MODERATOR_PROMPT = (
    "Now the {round} round of debate for both sides has ended.\n\n"
    "Affirmative side arguing:\n{aff_ans}\n\nNegative side arguing: {neg_ans}\n\n"
    "You, as the moderator, will evaluate both sides' answers and determine if there is a "
    "clear preference for an answer candidate. If so, please summarize your reasons for "
    "supporting affirmative/negative side and give the final answer that you think is "
    "correct, and the debate will conclude. If not, the debate will continue to the next "
    "round. Now please output your answer in json format, with the format as follows: "
    '{{"Whether there is a preference": "Yes or No", "Supported Side": "Affirmative or '
    'Negative", "Reason": "", "debate_answer": ""}}. Please strictly output in JSON format, '
    "do not output irrelevant content."
)
JUDGE_CANDIDATES_PROMPT = (
    "Affirmative side arguing: {aff_ans}\n\nNegative side arguing: {neg_ans}\n\n"
    "Now, what answer candidates do we have? Present them without reasons."
)
JUDGE_FINAL_PROMPT = (
    "Therefore, {topic}\nPlease summarize your reasons and give the final answer that you "
    "think is correct. Now please output your answer in json format, with the format as "
    'follows: {{"Reason": "", "debate_answer": ""}}. Please strictly output in JSON format, '
    "do not output irrelevant content."
)

_ORDINALS = ("first", "second", "third", "fourth", "fifth", "sixth", "seventh", "eighth")


@dataclass(frozen=True)
class Ruling:
    """A judge's reply, parsed. ``parsed`` is False when the reply held no usable JSON."""

    parsed: bool
    preference: bool = False
    side: str | None = None
    reason: str = ""
    answer: str = ""

    @property
    def decided(self) -> bool:
        return self.parsed and self.preference and bool(self.answer)


def parse_ruling(text: str, *, needs_preference: bool = True) -> Ruling:
    """Read the moderator's (or final judge's) JSON. With ``needs_preference``, a missing or
    non-Yes/No "Whether there is a preference" makes the ruling unparsed."""
    obj = parse_json_object(text)
    if obj is None:
        return Ruling(parsed=False)
    answer = field(obj, "debate_answer")
    side = field(obj, "Supported Side").casefold().rstrip(".")
    side_name = next((s for s in ("affirmative", "negative") if side.startswith(s)), None)
    reason = field(obj, "Reason")
    if not needs_preference:
        return Ruling(parsed=bool(answer), side=side_name, reason=reason, answer=answer)
    pref = field(obj, "Whether there is a preference").casefold().rstrip(".")
    if pref not in ("yes", "no"):
        return Ruling(parsed=False)
    return Ruling(True, pref == "yes", side_name, reason, answer)


@strategy(
    paper=(
        "Liang et al., Encouraging Divergent Thinking in Large Language Models through "
        "Multi-Agent Debate"
    ),
    year=2023,
    feedback=("intrinsic", "critic"),
)
def mad(max_rounds: Rounds = 3, temperature: Temperature = 0.0) -> StrategyFn:
    """Affirmative vs. devil's-advocate debate; a judge may stop it early or extracts the answer."""
    if max_rounds < 1:
        raise ConfigError(f"mad needs max_rounds >= 1, got {max_rounds}")

    async def run(ctx: StrategyContext) -> str:
        judge: Model = ctx.judge or ctx.model
        judge_kind: FeedbackKind = "critic" if judge.name != ctx.model.name else "intrinsic"
        tpl = ctx.prompt
        topic = ctx.task.format_prompt(ctx.sample)
        meta = tpl("PLAYER_META_PROMPT", PLAYER_META_PROMPT).format(topic=topic)
        moderator_meta = tpl("MODERATOR_META_PROMPT", MODERATOR_META_PROMPT).format(topic=topic)
        opening = tpl("AFFIRMATIVE_PROMPT", AFFIRMATIVE_PROMPT).format(topic=topic)
        debate_prompt = tpl("DEBATE_PROMPT", DEBATE_PROMPT)
        aff = Conversation.start(ctx, system=meta, prompt=opening)
        neg = Conversation().system(meta)
        moderator = Conversation().system(moderator_meta)
        ctx.notes["judge_parse_failures"] = 0

        aff_ans = await ask(ctx, aff, role="draft", round=0, temperature=temperature)
        ctx.checkpoint(aff_ans, round=0, note="affirmative opening")
        rounds = min(max_rounds, ctx.budget.max_rounds)
        if rounds == 0:
            ctx.notes["stop_reason"] = "budget: max_rounds=0"
            return aff_ans
        neg.user(tpl("NEGATIVE_PROMPT", NEGATIVE_PROMPT).format(aff_ans=aff_ans))
        neg_ans = await ask(ctx, neg, role="debate", round=1, temperature=temperature)

        for k in range(1, rounds + 1):
            if k > 1:
                aff_ans, neg_ans = await debate_round(
                    ctx,
                    [aff, neg],
                    [aff_ans, neg_ans],
                    lambda _i, others: debate_prompt.format(oppo_ans=others[0]),
                    role="debate",
                    round=k,
                    sequential=True,
                    temperature=temperature,
                )
            record_feedback(
                ctx,
                Feedback(
                    kind="intrinsic",
                    source=f"mad-negative:{ctx.model.name}",
                    text=neg_ans,
                    round=k,
                ),
            )
            moderator.user(
                tpl("MODERATOR_PROMPT", MODERATOR_PROMPT).format(
                    round=_ordinal(k), aff_ans=aff_ans, neg_ans=neg_ans
                )
            )
            reply = await ask(
                ctx, moderator, role="judge", round=k, model=judge, temperature=temperature
            )
            ruling = _count(ctx, parse_ruling(reply))
            record_feedback(
                ctx,
                Feedback(
                    kind=judge_kind,
                    source=f"mad-moderator:{judge.name}",
                    text=reply,
                    verdict="correct" if ruling.decided else "unknown",
                    round=k,
                    details={"parsed": ruling.parsed, "side": ruling.side},
                ),
            )
            if ruling.decided:
                final = _final_answer(ctx, ruling, aff_ans, neg_ans)
                ctx.checkpoint(final, round=k, note=f"moderator decided ({ruling.side})")
                ctx.notes["stop_reason"] = f"moderator decided in round {k}"
                return final
            ctx.checkpoint(aff_ans, round=k, note="no decision: affirmative's latest")

        # Extractive mode: no decision after max_rounds; the judge lists candidates, then picks.
        final_judge = Conversation().system(moderator_meta)
        candidates = tpl("JUDGE_CANDIDATES_PROMPT", JUDGE_CANDIDATES_PROMPT)
        final_judge.user(candidates.format(aff_ans=aff_ans, neg_ans=neg_ans))
        last = rounds + 1
        await ask(ctx, final_judge, role="judge", round=last, model=judge, temperature=temperature)
        final_judge.user(tpl("JUDGE_FINAL_PROMPT", JUDGE_FINAL_PROMPT).format(topic=topic))
        reply = await ask(
            ctx, final_judge, role="judge", round=last, model=judge, temperature=temperature
        )
        ruling = _count(ctx, parse_ruling(reply, needs_preference=False))
        final = _final_answer(ctx, ruling, aff_ans, neg_ans)
        ctx.checkpoint(final, round=last, note="final judge")
        ctx.notes["stop_reason"] = f"judge extracted the answer after max_rounds={rounds}"
        return final

    return run


def _ordinal(k: int) -> str:
    return _ORDINALS[k - 1] if k <= len(_ORDINALS) else f"{k}th"


def _count(ctx: StrategyContext, ruling: Ruling) -> Ruling:
    if not ruling.parsed:
        tally(ctx, "judge_parse_failures")
    return ruling


def _final_answer(ctx: StrategyContext, ruling: Ruling, aff_ans: str, neg_ans: str) -> str:
    """The judge's ``debate_answer`` if the task can read an answer in it; otherwise the
    supported side's latest answer (the affirmative's when no side is named), counted."""
    if ruling.answer and ctx.task.extract(ctx.sample, ruling.answer).ok:
        return ruling.answer
    tally(ctx, "judge_answer_unusable")
    return neg_ans if ruling.side == "negative" else aff_ans
