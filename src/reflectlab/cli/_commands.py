"""Every command module, imported once so that each registers its command on the app."""

from __future__ import annotations

from reflectlab.cli import (  # noqa: F401
    alt_test,
    cache,
    chat,
    demo,
    export,
    judge,
    merge,
    meta_eval,
    models,
    report,
    resume,
    run,
    score,
    serve,
    show,
    strategies,
    tasks,
)
