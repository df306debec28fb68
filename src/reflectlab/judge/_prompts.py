"""Judge prompts (private). Each names its source.

The pointwise, pairwise and reference-guided prompts are MT-Bench's, verbatim (Zheng et al.,
"Judging LLM-as-a-Judge with MT-Bench and Chatbot Arena", NeurIPS 2023;
``lm-sys/FastChat`` ``fastchat/llm_judge/data/judge_prompts.jsonl`` at commit 0e6d3e4,
Apache-2.0): ``single-v1``, ``single-math-v1`` (reference-guided), ``pair-v2`` and
``pair-math-v1`` (reference-guided). Only three things are ever substituted, each by an exact
string replacement that raises if the source text is not there: the scale ("1 to 10" and its
example "[[5]]"), the criteria sentence when the caller gives a rubric, and the tie clause
when ties are not allowed. With the defaults the messages are MT-Bench's exactly.

The Self-Taught Evaluator prompts are Meta's, verbatim (Wang et al., "Self-Taught Evaluators",
2024, arXiv:2408.02666; ``facebookresearch/RAM`` ``projects/self_taught_evaluator`` at commit
e6f051f, MIT): ``SELF_TAUGHT_WITH_SYSTEM_PROMPT`` of ``src/utils.py`` (the prompt the released
model is run with: a system and a user message) and ``data/prompts/eval_plan.prompt`` (the
paper's judgment-generation prompt: one user message). Both contain the literal text
``\\"[[A]]\\"`` (a backslash before each quote) and the eval-plan prompt the typo "evaluaiton":
kept as the source has them. Nothing is substituted but the question and the two answers.

The CriticBench and CheckEval prompts live in :mod:`reflectlab.judge.criticbench` and
:mod:`reflectlab.judge.checkeval`.

The critic prompt is ours (see :mod:`reflectlab.judge.critic_eval`). The checklist prompts
live in :mod:`reflectlab.feedback.checklist`, shared with the ``stick`` strategy.
"""

from __future__ import annotations

from reflectlab.errors import ConfigError
from reflectlab.model import ChatMessage

# --- MT-Bench, verbatim -------------------------------------------------------------------

MT_BENCH_SINGLE_SYSTEM = "You are a helpful assistant."

MT_BENCH_SINGLE_V1 = (
    "[Instruction]\nPlease act as an impartial judge and evaluate the quality of the response "
    "provided by an AI assistant to the user question displayed below. Your evaluation should "
    "consider factors such as the helpfulness, relevance, accuracy, depth, creativity, and "
    "level of detail of the response. Begin your evaluation by providing a short explanation. "
    "Be as objective as possible. After providing your explanation, you must rate the response "
    'on a scale of 1 to 10 by strictly following this format: "[[rating]]", for example: '
    '"Rating: [[5]]".\n\n[Question]\n{question}\n\n[The Start of Assistant\'s Answer]\n'
    "{answer}\n[The End of Assistant's Answer]"
)

MT_BENCH_SINGLE_MATH_V1 = (
    "[Instruction]\nPlease act as an impartial judge and evaluate the quality of the response "
    "provided by an AI assistant to the user question displayed below. Your evaluation should "
    "consider correctness and helpfulness. You will be given a reference answer and the "
    "assistant's answer. Begin your evaluation by comparing the assistant's answer with the "
    "reference answer. Identify and correct any mistakes. Be as objective as possible. After "
    "providing your explanation, you must rate the response on a scale of 1 to 10 by strictly "
    'following this format: "[[rating]]", for example: "Rating: [[5]]".\n\n[Question]\n'
    "{question}\n\n[The Start of Reference Answer]\n{ref_answer_1}\n[The End of Reference "
    "Answer]\n\n[The Start of Assistant's Answer]\n{answer}\n[The End of Assistant's Answer]"
)

MT_BENCH_PAIR_V2_SYSTEM = (
    "Please act as an impartial judge and evaluate the quality of the responses provided by "
    "two AI assistants to the user question displayed below. You should choose the assistant "
    "that follows the user's instructions and answers the user's question better. Your "
    "evaluation should consider factors such as the helpfulness, relevance, accuracy, depth, "
    "creativity, and level of detail of their responses. Begin your evaluation by comparing "
    "the two responses and provide a short explanation. Avoid any position biases and ensure "
    "that the order in which the responses were presented does not influence your decision. "
    "Do not allow the length of the responses to influence your evaluation. Do not favor "
    "certain names of the assistants. Be as objective as possible. After providing your "
    'explanation, output your final verdict by strictly following this format: "[[A]]" if '
    'assistant A is better, "[[B]]" if assistant B is better, and "[[C]]" for a tie.'
)

MT_BENCH_PAIR_V2 = (
    "[User Question]\n{question}\n\n[The Start of Assistant A's Answer]\n{answer_a}\n"
    "[The End of Assistant A's Answer]\n\n[The Start of Assistant B's Answer]\n{answer_b}\n"
    "[The End of Assistant B's Answer]"
)

MT_BENCH_PAIR_MATH_V1_SYSTEM = (
    "Please act as an impartial judge and evaluate the quality of the responses provided by "
    "two AI assistants to the user question displayed below. Your evaluation should consider "
    "correctness and helpfulness. You will be given a reference answer, assistant A's answer, "
    "and assistant B's answer. Your job is to evaluate which assistant's answer is better. "
    "Begin your evaluation by comparing both assistants' answers with the reference answer. "
    "Identify and correct any mistakes. Avoid any position biases and ensure that the order "
    "in which the responses were presented does not influence your decision. Do not allow the "
    "length of the responses to influence your evaluation. Do not favor certain names of the "
    "assistants. Be as objective as possible. After providing your explanation, output your "
    'final verdict by strictly following this format: "[[A]]" if assistant A is better, '
    '"[[B]]" if assistant B is better, and "[[C]]" for a tie.'
)

MT_BENCH_PAIR_MATH_V1 = (
    "[User Question]\n{question}\n\n[The Start of Reference Answer]\n{ref_answer_1}\n"
    "[The End of Reference Answer]\n\n[The Start of Assistant A's Answer]\n{answer_a}\n"
    "[The End of Assistant A's Answer]\n\n[The Start of Assistant B's Answer]\n{answer_b}\n"
    "[The End of Assistant B's Answer]"
)

_SINGLE_CRITERIA = (
    "Your evaluation should consider factors such as the helpfulness, relevance, accuracy, "
    "depth, creativity, and level of detail of the response."
)
_SINGLE_MATH_CRITERIA = "Your evaluation should consider correctness and helpfulness."
_SCALE = "on a scale of 1 to 10"
_SCALE_EXAMPLE = '"Rating: [[5]]"'
_TIE_CLAUSE = ', "[[B]]" if assistant B is better, and "[[C]]" for a tie.'
_NO_TIE_CLAUSE = ', or "[[B]]" if assistant B is better. Do not declare a tie.'

# --- Self-Taught Evaluator (facebookresearch/RAM), verbatim ---------------------------------

SELF_TAUGHT_SYSTEM = (
    "Please act as an impartial judge and evaluate the quality of the responses provided by "
    "two AI assistants to the user question displayed below. You should choose the assistant "
    "that follows the user's instructions and answers the user's question better. Your "
    "evaluation should consider factors such as the helpfulness, relevance, accuracy, depth, "
    "creativity, and level of detail of their responses. Begin your evaluation by comparing "
    "the two responses and provide a short explanation. Avoid any position biases and ensure "
    "that the order in which the responses were presented does not influence your decision. "
    "Do not allow the length of the responses to influence your evaluation. Do not favor "
    "certain names of the assistants. Be as objective as possible. After providing your "
    'explanation, output your final verdict by strictly following this format: \\"[[A]]\\" if '
    'assistant A is better, \\"[[B]]\\" if assistant B is better.'
)

SELF_TAUGHT_USER = (
    "[User Question]\n{input}\n\n[The Start of Assistant A's Answer]\n{response_a}\n"
    "[The End of Assistant A's Answer]\n\n[The Start of Assistant B's Answer]\n{response_b}\n"
    "[The End of Assistant B's Answer]\n"
)

SELF_TAUGHT_EVAL_PLAN = (
    "Please act as an impartial judge and evaluate the quality of the responses provided by "
    "two AI assistants to the user question displayed below. You should choose the assistant "
    "that follows the user's instructions and answers the user's question better. Begin your "
    "evaluation by first verifying whether each response contains any obvious or subtle "
    "errors. Then propose an appropriate evaluaiton rubric, e.g. 1-5 criteria that are "
    "important for evaluating responses to this specific user question. Continue your "
    "evaluation by checking each response carefully along those criteria. Based on the "
    "analysis in previous steps, choose which response is better overall. Avoid any position "
    "biases and ensure that the order in which the responses were presented does not "
    "influence your decision. Do not allow the length of the responses to influence your "
    "evaluation. Do not favor certain names of the assistants. Be as objective as possible. "
    "After providing your evaluation, output your final verdict by strictly following this "
    'format: \\"[[A]]\\" if assistant A is better, \\"[[B]]\\" if assistant B is better. '
    "\n\n[User Question]\n{input}\n\n[The Start of Assistant A's Answer]\n{generation}\n"
    "[The End of Assistant A's Answer]\n\n[The Start of Assistant B's Answer]\n{generation2}\n"
    "[The End of Assistant B's Answer]\n"
)

# --- ours ---------------------------------------------------------------------------------

CRITIC_CORRECTNESS = (
    "Please act as an impartial judge and check the solution below to the question. Go "
    "through it step by step and decide whether its final answer is correct. Begin with a "
    "short explanation, then output your verdict by strictly following this format: "
    '"[[CORRECT]]" if the final answer is correct, "[[INCORRECT]]" if it is not.\n\n'
    "[Question]\n{question}\n\n[The Start of the Solution]\n{solution}\n"
    "[The End of the Solution]"
)


def _replace(text: str, old: str, new: str) -> str:
    if old not in text:  # a prompt constant was edited: fail loudly, not silently
        raise ConfigError(f"judge prompt does not contain {old!r}")
    return text.replace(old, new)


def pointwise_messages(
    instruction: str,
    response: str,
    *,
    scale: tuple[int, int] = (1, 10),
    rubric: str | None = None,
    reference: str | None = None,
) -> list[ChatMessage]:
    """MT-Bench ``single-v1`` (or ``single-math-v1`` with a reference), scale and rubric
    substituted when they differ from MT-Bench's."""
    if reference is None:
        template, criteria = MT_BENCH_SINGLE_V1, _SINGLE_CRITERIA
    else:
        template, criteria = MT_BENCH_SINGLE_MATH_V1, _SINGLE_MATH_CRITERIA
    if rubric is not None:
        template = _replace(
            template, criteria, f"Your evaluation should follow this rubric:\n{rubric}\n"
        )
    low, high = scale
    if (low, high) != (1, 10):
        template = _replace(template, _SCALE, f"on a scale of {low} to {high}")
        template = _replace(template, _SCALE_EXAMPLE, f'"Rating: [[{low + (high - low) // 2}]]"')
    content = template.format(question=instruction, answer=response, ref_answer_1=reference)
    return [
        ChatMessage(role="system", content=MT_BENCH_SINGLE_SYSTEM),
        ChatMessage(role="user", content=content),
    ]


def pairwise_messages(
    instruction: str,
    answer_a: str,
    answer_b: str,
    *,
    allow_tie: bool = True,
    reference: str | None = None,
) -> list[ChatMessage]:
    """MT-Bench ``pair-v2`` (or ``pair-math-v1`` with a reference); the tie clause removed
    when ties are not allowed. ``answer_a``/``answer_b`` are in the order shown."""
    if reference is None:
        system, template = MT_BENCH_PAIR_V2_SYSTEM, MT_BENCH_PAIR_V2
    else:
        system, template = MT_BENCH_PAIR_MATH_V1_SYSTEM, MT_BENCH_PAIR_MATH_V1
    if not allow_tie:
        system = _replace(system, _TIE_CLAUSE, _NO_TIE_CLAUSE)
    content = template.format(
        question=instruction, answer_a=answer_a, answer_b=answer_b, ref_answer_1=reference
    )
    return [
        ChatMessage(role="system", content=system),
        ChatMessage(role="user", content=content),
    ]


def critic_messages(question: str, solution: str) -> list[ChatMessage]:
    content = CRITIC_CORRECTNESS.format(question=question, solution=solution)
    return [ChatMessage(role="user", content=content)]


def self_taught_messages(
    instruction: str, answer_a: str, answer_b: str, *, variant: str = "self-taught"
) -> list[ChatMessage]:
    """The Self-Taught Evaluator prompt: ``"self-taught"`` (system + user, as the released model
    is run) or ``"self-taught-plan"`` (the eval-plan prompt, one user message).
    ``answer_a``/``answer_b`` are in the order shown."""
    if variant == "self-taught":
        user = SELF_TAUGHT_USER.format(input=instruction, response_a=answer_a, response_b=answer_b)
        return [
            ChatMessage(role="system", content=SELF_TAUGHT_SYSTEM),
            ChatMessage(role="user", content=user),
        ]
    if variant == "self-taught-plan":
        content = SELF_TAUGHT_EVAL_PLAN.format(
            input=instruction, generation=answer_a, generation2=answer_b
        )
        return [ChatMessage(role="user", content=content)]
    raise ConfigError(f"unknown Self-Taught Evaluator prompt {variant!r}")
