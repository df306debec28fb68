"""Every command module, imported once so that each registers its command on the app."""

from __future__ import annotations

from reflectlab.cli import cache, chat, models, strategies  # noqa: F401
