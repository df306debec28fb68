"""Where reflectlab keeps its state: one root, overridable by ``REFLECTLAB_HOME``."""

from __future__ import annotations

import os
from pathlib import Path

import platformdirs


def home_dir() -> Path:
    """The state root: ``$REFLECTLAB_HOME`` if set, else the platform's user data dir."""
    env = os.environ.get("REFLECTLAB_HOME")
    root = Path(env).expanduser() if env else Path(platformdirs.user_data_dir("reflectlab"))
    root.mkdir(parents=True, exist_ok=True)
    return root


def default_db_path() -> Path:
    return home_dir() / "reflectlab.db"
