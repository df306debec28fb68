"""Where the tests find the real benchmark data, and skipping cleanly when it is absent.

The data sets live read-only in ``../shared/data`` next to the repository (never copied into
it). ``REFLECTLAB_SHARED_DATA`` points elsewhere, e.g. at an empty directory to check that every
real-data test skips, with its reason, instead of failing with ``FileNotFoundError``.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

__all__ = ["SHARED_DATA", "needs_shared_data", "shared_data"]

_REPO = Path(__file__).resolve().parents[2]
SHARED_DATA = Path(os.environ.get("REFLECTLAB_SHARED_DATA") or _REPO.parent / "shared" / "data")


def _reason(path: Path) -> str:
    return (
        f"real data not present: {path} (the read-only shared data set next to the repository; "
        "REFLECTLAB_SHARED_DATA points elsewhere)"
    )


def shared_data(*parts: str) -> Path:
    """``SHARED_DATA / parts``; skips the calling test, saying why, when the path is absent."""
    path = SHARED_DATA.joinpath(*parts)
    if not path.exists():
        pytest.skip(_reason(path))
    return path


def needs_shared_data(*parts: str) -> pytest.MarkDecorator:
    """A ``skipif`` mark (for a test or a module's ``pytestmark``) when the path is absent."""
    path = SHARED_DATA.joinpath(*parts)
    return pytest.mark.skipif(not path.exists(), reason=_reason(path))
