"""Timeouts and retries of model calls: defaults, environment variables, validation.

=============================  =====================================================  =======
environment variable           meaning                                                default
=============================  =====================================================  =======
``REFLECTLAB_TIMEOUT``         seconds one HTTP attempt may take, connect to last     120
                               byte (``timeout_s``)
``REFLECTLAB_CONNECT_TIMEOUT`` seconds to open the TCP connection                     10
                               (``connect_timeout_s``)
``REFLECTLAB_MAX_RETRIES``     retries after the first attempt (``max_retries``)      5
``REFLECTLAB_DEADLINE``        seconds one call may take over all its attempts and    600
                               backoff waits (``deadline_s``)
=============================  =====================================================  =======

A keyword argument of :func:`reflectlab.model.get_model` wins over the variable, which wins over
the default. The worst case is therefore bounded and known: a server that accepts and never
answers fails a call after ``min(deadline_s, (max_retries + 1) * timeout_s + backoff)``, i.e.
at most 600 s by default, each hung attempt surfacing after ``timeout_s``. The embedded
``llamacpp/`` engine defaults to ``timeout_s = 600`` (a CPU engine on a small machine can
legitimately take minutes on one long reply); the deadline still bounds it.

A value that is not a number, or out of range, is a :class:`~reflectlab.errors.ConfigError`
naming the variable or argument.
"""

from __future__ import annotations

import math
import os

from reflectlab.errors import ConfigError

DEFAULT_TIMEOUT_S = 120.0
DEFAULT_CONNECT_TIMEOUT_S = 10.0
DEFAULT_MAX_RETRIES = 5
DEFAULT_DEADLINE_S = 600.0
#: the embedded engine's per-attempt default (see the module docstring)
LOCAL_ENGINE_TIMEOUT_S = 600.0

ENV_TIMEOUT = "REFLECTLAB_TIMEOUT"
ENV_CONNECT_TIMEOUT = "REFLECTLAB_CONNECT_TIMEOUT"
ENV_MAX_RETRIES = "REFLECTLAB_MAX_RETRIES"
ENV_DEADLINE = "REFLECTLAB_DEADLINE"

_MAX_SECONDS = 86_400.0
MAX_RETRIES_LIMIT = 49  # RetryPolicy allows at most 50 attempts


def seconds(value: float | None, *, name: str, env: str, default: float) -> float:
    """``value`` if given, else the environment variable ``env``, else ``default``; checked to
    be a finite number of seconds in (0, 86400]."""
    source = name
    if value is None:
        raw = os.environ.get(env, "").strip()
        if not raw:
            return default
        source = f"environment variable {env}"
        try:
            value = float(raw)
        except ValueError:
            raise ConfigError(f"{source}={raw!r} is not a number of seconds") from None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ConfigError(f"{source} must be a number of seconds, got {value!r}")
    if not math.isfinite(value) or not 0.0 < value <= _MAX_SECONDS:
        raise ConfigError(f"{source} must be > 0 and <= {_MAX_SECONDS:.0f} seconds, got {value!r}")
    return float(value)


def timeouts(
    timeout_s: float | None, connect_timeout_s: float | None, *, default_timeout_s: float
) -> tuple[float, float]:
    """A provider's (per-attempt, connect) timeouts: the argument, else the environment
    variable, else the default (``default_timeout_s`` per attempt, which depends on whether
    the server is a hosted API or a local engine)."""
    return (
        seconds(timeout_s, name="timeout_s", env=ENV_TIMEOUT, default=default_timeout_s),
        seconds(
            connect_timeout_s,
            name="connect_timeout_s",
            env=ENV_CONNECT_TIMEOUT,
            default=DEFAULT_CONNECT_TIMEOUT_S,
        ),
    )


def max_retries(value: int | None) -> int:
    """``value`` if given, else ``REFLECTLAB_MAX_RETRIES``, else the default; 0..49."""
    source = "max_retries"
    if value is None:
        raw = os.environ.get(ENV_MAX_RETRIES, "").strip()
        if not raw:
            return DEFAULT_MAX_RETRIES
        source = f"environment variable {ENV_MAX_RETRIES}"
        try:
            value = int(raw)
        except ValueError:
            raise ConfigError(f"{source}={raw!r} is not a whole number") from None
    if isinstance(value, bool) or not isinstance(value, int):
        raise ConfigError(f"{source} must be a whole number, got {value!r}")
    if not 0 <= value <= MAX_RETRIES_LIMIT:
        raise ConfigError(f"{source} must be between 0 and {MAX_RETRIES_LIMIT}, got {value}")
    return value
