"""Strategies: registered by name with ``@strategy``; built from shared primitives.

Every strategy module is imported here so that importing :mod:`reflectlab.strategy` registers
all of them.
"""

from reflectlab.strategy import (  # noqa: F401  (imported to register)
    best_of_n,
    chain_of_verification,
    cot,
    cqot,
    critic,
    critic_cot,
    debate,
    decrim,
    dialectic,
    direct,
    dual_model,
    iort,
    mad,
    multiplex_cot,
    progco,
    reap,
    reflexion,
    retry,
    rot,
    self_consistency,
    self_contrast,
    self_correct,
    self_refine,
    self_verification,
    stick,
)
from reflectlab.strategy._context import TRAIN_ORACLE, Budget, Checkpoint, StrategyContext
from reflectlab.strategy._offline import OfflineContext, OfflineStage, Prepared
from reflectlab.strategy._primitives import (
    Conversation,
    ask,
    critique,
    critique_and_refine,
    evaluate_and_revise,
    feedback_from,
    majority,
    record_feedback,
    run_program,
    same_answer,
    sample_n,
    tally,
)
from reflectlab.strategy._registry import (
    StrategyFn,
    StrategyInfo,
    get_strategy,
    list_strategies,
    strategy,
    strategy_info,
)
from reflectlab.strategy._run import StrategyResult, run_strategy

__all__ = [
    "TRAIN_ORACLE",
    "Budget",
    "Checkpoint",
    "Conversation",
    "OfflineContext",
    "OfflineStage",
    "Prepared",
    "StrategyContext",
    "StrategyFn",
    "StrategyInfo",
    "StrategyResult",
    "ask",
    "critique",
    "critique_and_refine",
    "evaluate_and_revise",
    "feedback_from",
    "get_strategy",
    "list_strategies",
    "majority",
    "record_feedback",
    "run_program",
    "run_strategy",
    "same_answer",
    "sample_n",
    "strategy",
    "strategy_info",
    "tally",
]
