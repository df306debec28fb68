"""Feedback sources, each declaring its provenance: intrinsic, critic, tool or oracle."""

from __future__ import annotations

from reflectlab.errors import ConfigError
from reflectlab.feedback._base import (
    FEEDBACK_KINDS,
    Feedback,
    FeedbackContext,
    FeedbackKind,
    FeedbackRequest,
    FeedbackSource,
    Verdict,
    VerdictParser,
    parse_verdict,
)
from reflectlab.feedback._execution import (
    FAIL_MARKER,
    PASS_MARKER,
    CalculatorFeedback,
    CodeExecutionFeedback,
    check_arithmetic,
    evaluate_arithmetic,
    execution_verdict,
    extract_python_code,
    format_execution,
)
from reflectlab.feedback._model_sources import CriticFeedback, IntrinsicFeedback
from reflectlab.feedback._oracle import OracleFeedback
from reflectlab.feedback._tool import TaskCheckFeedback, no_label_free_check

__all__ = [
    "FAIL_MARKER",
    "FEEDBACK_KINDS",
    "PASS_MARKER",
    "CalculatorFeedback",
    "CodeExecutionFeedback",
    "CriticFeedback",
    "Feedback",
    "FeedbackContext",
    "FeedbackKind",
    "FeedbackRequest",
    "FeedbackSource",
    "IntrinsicFeedback",
    "OracleFeedback",
    "TaskCheckFeedback",
    "Verdict",
    "VerdictParser",
    "check_arithmetic",
    "evaluate_arithmetic",
    "execution_verdict",
    "extract_python_code",
    "feedback_source",
    "format_execution",
    "no_label_free_check",
    "parse_verdict",
]


def feedback_source(kind: str) -> FeedbackSource:
    """The default source of a feedback kind."""
    sources: dict[str, type[FeedbackSource]] = {
        "intrinsic": IntrinsicFeedback,
        "critic": CriticFeedback,
        "tool": TaskCheckFeedback,
        "oracle": OracleFeedback,
    }
    cls = sources.get(kind)
    if cls is None:
        raise ConfigError(f"unknown feedback kind {kind!r}; known: {', '.join(FEEDBACK_KINDS)}")
    return cls()
