"""Readers for real judge-benchmark formats, and pairwise meta-evaluation. No model calls.

- LLMBar (Zeng et al., "Evaluating Large Language Models at Evaluating Instruction Following",
  ICLR 2024): :func:`read_llmbar_dataset`, :func:`read_llmbar_result`,
  :func:`read_llmbar_statistics`.
- JudgeBench (Tan et al., "JudgeBench: A Benchmark for Evaluating LLM-based Judges", ICLR
  2025): :func:`read_judgebench_pairs`, :func:`read_judgebench_judgments` (the second game's
  decision is mapped back to the original positions).
- MT-Bench (Zheng et al., NeurIPS 2023): :func:`read_mt_bench_judge_prompts`.
- :func:`pairwise_meta_eval`: accuracy per order, averaged over both orders, correct in both
  orders, positional agreement; definitions identical to LLMBar's ``statistics.json``, which
  :func:`llmbar_statistics_strings` reproduces character for character.

Malformed files raise :class:`~reflectlab.errors.InputError` naming the file, the line (JSONL)
or record, and the field.

Example::

    verdicts = read_pairwise_verdicts("Dataset/LLMBar/Natural/evaluators/GPT-4/CoT/result.json")
    print(pairwise_meta_eval(verdicts).accuracy_average)
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from reflectlab.errors import ConfigError
from reflectlab.judge._judgebench import (
    parse_judgebench_decision,
    read_judgebench_judgments,
    read_judgebench_pairs,
)
from reflectlab.judge._llmbar import (
    LLMBarStatistics,
    read_llmbar_dataset,
    read_llmbar_result,
    read_llmbar_statistics,
)
from reflectlab.judge._mtbench import MTBenchJudgePrompt, read_mt_bench_judge_prompts
from reflectlab.judge._pairwise import (
    Gold,
    PairwiseExample,
    PairwiseMetaEval,
    PairwiseVerdicts,
    Winner,
    llmbar_statistics_strings,
    pairwise_meta_eval,
)

__all__ = [
    "Gold",
    "LLMBarStatistics",
    "MTBenchJudgePrompt",
    "PairwiseExample",
    "PairwiseMetaEval",
    "PairwiseVerdicts",
    "VerdictFormat",
    "Winner",
    "llmbar_statistics_strings",
    "pairwise_meta_eval",
    "parse_judgebench_decision",
    "read_judgebench_judgments",
    "read_judgebench_pairs",
    "read_llmbar_dataset",
    "read_llmbar_result",
    "read_llmbar_statistics",
    "read_mt_bench_judge_prompts",
    "read_pairwise_verdicts",
]

VerdictFormat = Literal["auto", "llmbar", "judgebench"]


def read_pairwise_verdicts(path: str | Path, fmt: VerdictFormat = "auto") -> list[PairwiseVerdicts]:
    """Read judge verdicts in both orders from an LLMBar ``result.json`` or a JudgeBench
    output ``.jsonl``. ``auto`` picks by extension: ``.jsonl`` is JudgeBench, ``.json`` LLMBar.
    """
    if fmt == "auto":
        suffix = Path(path).suffix.lower()
        if suffix == ".jsonl":
            fmt = "judgebench"
        elif suffix == ".json":
            fmt = "llmbar"
        else:
            raise ConfigError(
                f"cannot tell the format of {str(path)!r} from its extension; pass "
                "fmt='llmbar' or fmt='judgebench'"
            )
    if fmt == "llmbar":
        return read_llmbar_result(path)
    if fmt == "judgebench":
        return read_judgebench_judgments(path)
    raise ConfigError(f"unknown verdict format {fmt!r}; use auto, llmbar or judgebench")
