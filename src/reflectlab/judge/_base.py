"""Shared building blocks of the judge package's meta-evaluation modules (private).

``FrozenResult`` is the base of every result object: immutable, ``extra="forbid"``, and
``model_dump()`` gives plain JSON-ready data for ``--json`` output. ``Label`` is one annotation:
any JSON scalar.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

Label = str | int | float | bool
"""One annotation or verdict: any JSON scalar."""


class FrozenResult(BaseModel):
    """Immutable result object; ``model_dump()`` is JSON-ready."""

    model_config = ConfigDict(frozen=True, extra="forbid")


def ratio(numerator: int | float, denominator: int | float) -> float | None:
    """``numerator / denominator``, or ``None`` when the denominator is zero (undefined)."""
    return None if denominator == 0 else numerator / denominator
