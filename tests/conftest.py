"""Suite-wide isolation: no test reads or writes the user's real reflectlab home."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest


@pytest.fixture(autouse=True, scope="session")
def _isolated_home(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    home = tmp_path_factory.mktemp("reflectlab-home")
    patcher = pytest.MonkeyPatch()
    patcher.setenv("REFLECTLAB_HOME", str(home))
    patcher.delenv("OPENAI_API_KEY", raising=False)
    patcher.delenv("OPENAI_BASE_URL", raising=False)
    yield home
    patcher.undo()
