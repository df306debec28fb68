"""LLM-as-a-judge: judging protocols, bias probes, and the judges' own meta-evaluation.

- Protocols (every call ``role="judge"``): :class:`PointwiseJudge` (rating on a scale),
  :class:`PairwiseJudge` (both orders; a verdict counts only when they agree), reference-guided
  grading (either, given ``reference=``), :class:`ChecklistJudge` (TICK), :class:`CheckEvalJudge`
  (CheckEval's fixed per-dimension checklists), panels (:class:`PointwisePanel` mean,
  :class:`PairwisePanel` vote); the Self-Taught Evaluator prompt is
  ``PairwiseJudge(prompt="self-taught")``.
- Verdict parsing: :func:`parse_pairwise_verdict`, :func:`parse_rating`, :func:`parse_yes_no`,
  :func:`parse_correctness`: unparseable is ``None`` + ``parse_error``, never a guess.
- Bias probes: :func:`position_bias`, :func:`verbosity_bias`, :func:`self_preference`,
  :func:`injection_probe`.
- Critic evaluation on labelled GSM8K solutions: :func:`evaluate_critic`; CriticBench's
  generate / critique / correct stages, each scored: :func:`evaluate_criticbench`.
- A model-graded scorer for the runner: :class:`JudgeScorer`.
- Meta-evaluation (no model calls): agreement metrics (:mod:`reflectlab.judge.metrics`), the
  alt-test (:mod:`reflectlab.judge.alt_test`), readers for LLMBar / JudgeBench / MT-Bench files
  and pairwise meta-evaluation (:mod:`reflectlab.judge.formats`).

Example::

    judge = PairwiseJudge(get_model("openai/gpt-4o-mini"))
    result = await judge.judge("Name a prime.", "7", "8")
    print(result.verdict, result.consistent)
"""

from reflectlab.judge._verdicts import (
    PairVerdict,
    ParsedAnswer,
    ParsedCorrectness,
    ParsedPair,
    ParsedRating,
    parse_correctness,
    parse_pairwise_verdict,
    parse_rating,
    parse_yes_no,
)
from reflectlab.judge.alt_test import AltTestResult, alt_test, load_alt_test_inputs
from reflectlab.judge.bias import (
    AttributedPair,
    InjectionBias,
    PositionBias,
    SelfPreference,
    VerbosityBias,
    inject,
    injection_probe,
    pad_response,
    position_bias,
    self_preference,
    verbosity_bias,
)
from reflectlab.judge.checkeval import (
    CheckEvalAnswer,
    CheckEvalChecklist,
    CheckEvalDimension,
    CheckEvalJudge,
    CheckEvalJudgment,
    checkeval_dimensions,
    load_checkeval_checklist,
    parse_checkeval_answers,
)
from reflectlab.judge.checklist import (
    Checklist,
    ChecklistItem,
    ChecklistJudge,
    ChecklistJudgment,
    parse_checklist,
)
from reflectlab.judge.critic_eval import (
    CorrectnessCritic,
    CriticEvalResult,
    CriticJudgment,
    SolutionItem,
    evaluate_critic,
    load_gsm8k_solutions,
)
from reflectlab.judge.criticbench import (
    CriticBenchItem,
    CriticBenchJudgment,
    CriticBenchResult,
    CriticBenchRunner,
    evaluate_criticbench,
    parse_criticbench_answer,
    parse_criticbench_verdict,
    read_criticbench_items,
)
from reflectlab.judge.formats import (
    PairwiseExample,
    PairwiseMetaEval,
    PairwiseVerdicts,
    pairwise_meta_eval,
    read_judgebench_pairs,
    read_llmbar_dataset,
    read_pairwise_verdicts,
)
from reflectlab.judge.items import PairwiseItem, PointwiseItem, read_judge_items
from reflectlab.judge.metrics import (
    CriticEvaluation,
    accuracy,
    cohen_kappa,
    critic_evaluation,
    kendall,
    krippendorff_alpha,
    spearman,
)
from reflectlab.judge.panel import (
    PairwisePanel,
    PairwisePanelJudgment,
    PointwisePanel,
    PointwisePanelJudgment,
)
from reflectlab.judge.protocols import (
    OrderVerdict,
    PairwiseJudge,
    PairwiseJudgment,
    PairwisePrompt,
    PointwiseJudge,
    PointwiseJudgment,
)
from reflectlab.judge.scorer import JudgeScorer

__all__ = [
    "AltTestResult",
    "AttributedPair",
    "CheckEvalAnswer",
    "CheckEvalChecklist",
    "CheckEvalDimension",
    "CheckEvalJudge",
    "CheckEvalJudgment",
    "Checklist",
    "ChecklistItem",
    "ChecklistJudge",
    "ChecklistJudgment",
    "CorrectnessCritic",
    "CriticBenchItem",
    "CriticBenchJudgment",
    "CriticBenchResult",
    "CriticBenchRunner",
    "CriticEvalResult",
    "CriticEvaluation",
    "CriticJudgment",
    "InjectionBias",
    "JudgeScorer",
    "OrderVerdict",
    "PairVerdict",
    "PairwiseExample",
    "PairwiseItem",
    "PairwiseJudge",
    "PairwiseJudgment",
    "PairwiseMetaEval",
    "PairwisePanel",
    "PairwisePanelJudgment",
    "PairwisePrompt",
    "PairwiseVerdicts",
    "ParsedAnswer",
    "ParsedCorrectness",
    "ParsedPair",
    "ParsedRating",
    "PointwiseItem",
    "PointwiseJudge",
    "PointwiseJudgment",
    "PointwisePanel",
    "PointwisePanelJudgment",
    "PositionBias",
    "SelfPreference",
    "SolutionItem",
    "VerbosityBias",
    "accuracy",
    "alt_test",
    "checkeval_dimensions",
    "cohen_kappa",
    "critic_evaluation",
    "evaluate_critic",
    "evaluate_criticbench",
    "inject",
    "injection_probe",
    "kendall",
    "krippendorff_alpha",
    "load_alt_test_inputs",
    "load_checkeval_checklist",
    "load_gsm8k_solutions",
    "pad_response",
    "pairwise_meta_eval",
    "parse_checkeval_answers",
    "parse_checklist",
    "parse_correctness",
    "parse_criticbench_answer",
    "parse_criticbench_verdict",
    "parse_pairwise_verdict",
    "parse_rating",
    "parse_yes_no",
    "position_bias",
    "read_criticbench_items",
    "read_judge_items",
    "read_judgebench_pairs",
    "read_llmbar_dataset",
    "read_pairwise_verdicts",
    "self_preference",
    "spearman",
    "verbosity_bias",
]
