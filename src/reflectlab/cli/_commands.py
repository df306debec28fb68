"""Every command module, imported once so that each registers its command on the app."""

from __future__ import annotations

import reflectlab.cli.alt_test
import reflectlab.cli.judge
import reflectlab.cli.meta_eval  # noqa: F401
from reflectlab.cli import cache, chat, models, strategies  # noqa: F401
from reflectlab.cli import score, tasks  # noqa: F401
from reflectlab.cli import report as _report  # noqa: F401
