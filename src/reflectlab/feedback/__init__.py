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
from reflectlab.feedback._model_sources import CriticFeedback, IntrinsicFeedback
from reflectlab.feedback._oracle import OracleFeedback
from reflectlab.feedback._tool import TaskCheckFeedback

__all__ = [
    "FEEDBACK_KINDS",
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
    "feedback_source",
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
