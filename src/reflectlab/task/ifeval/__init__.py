"""IFEval: verifiable instruction following (Zhou et al. 2023, arXiv:2311.07911).

A pure-Python checker for the 25 instruction types of Google's IFEval benchmark, with strict
and loose evaluation and the benchmark's four accuracies. It follows the reference
implementation's semantics (including its leniencies) so published numbers reproduce, with
three deliberate deviations:

- sentence and word tokenization are re-implemented with regular expressions instead of NLTK
  (whose Punkt model needs a download); see ``_sentences`` and ``_words`` for what differs;
- language detection is seeded, so a score never changes between runs;
- a missing, ill-typed or unknown instruction argument is an error instead of being replaced
  by a random value, and keywords/markers are matched literally rather than as regexes.

Typical use::

    from reflectlab.task.ifeval import load_ifeval_inputs, load_ifeval_responses, score_responses

    records = load_ifeval_inputs("input_data.jsonl")
    responses = load_ifeval_responses("responses.jsonl", records)
    scores = score_responses(records, responses)
    print(scores.prompt_strict, scores.instruction_strict)

A single check, e.g. for tool feedback::

    check_instruction("punctuation:no_comma", {}, prompt, reply)  # -> bool
"""

from reflectlab.task.ifeval._args import IFEvalInstructionError
from reflectlab.task.ifeval._evaluation import (
    IFEvalItemResult,
    IFEvalItemScore,
    IFEvalRecord,
    IFEvalScores,
    evaluate_response,
    loose_variants,
    score_responses,
)
from reflectlab.task.ifeval._loader import load_ifeval_inputs, load_ifeval_responses
from reflectlab.task.ifeval._registry import INSTRUCTION_IDS, check_instruction
from reflectlab.task.ifeval._sentences import count_sentences
from reflectlab.task.ifeval._words import count_words

__all__ = [
    "INSTRUCTION_IDS",
    "IFEvalInstructionError",
    "IFEvalItemResult",
    "IFEvalItemScore",
    "IFEvalRecord",
    "IFEvalScores",
    "check_instruction",
    "count_sentences",
    "count_words",
    "evaluate_response",
    "load_ifeval_inputs",
    "load_ifeval_responses",
    "loose_variants",
    "score_responses",
]
