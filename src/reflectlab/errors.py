"""The exception hierarchy of reflectlab.

Every error raised on purpose by reflectlab derives from :class:`ReflectlabError`, so a caller
can catch one type. Provider errors are translated at the provider boundary::

    ReflectlabError
    ├── ConfigError                 bad option, unknown model/strategy/task name
    ├── InputError                  bad user file: names the file, line and field
    ├── ModelError                  a model call failed (names the model and URL)
    │   ├── RateLimitError          HTTP 429 or the server said "slow down"        (retried)
    │   ├── ProviderUnavailableError  connection refused, DNS, 5xx, timeout         (retried)
    │   ├── InvalidResponseError    HTTP 200 but not a completion: not JSON, not an
    │   │   │                       object, no ``choices`` list, a choice without
    │   │   │                       a message                                      (retried)
    │   │   └── EmptyCompletionError  ``choices: []``, or a choice whose content is
    │   │                           null, "" or only whitespace (also when
    │   │                           finish_reason is "length")                     (retried)
    │   ├── InvalidUsageError       ``usage`` with counts that are not non-negative
    │   │                           integers (strings, negatives, booleans, ...)   (not retried)
    │   ├── ContextWindowError      the prompt does not fit the model's context    (not retried)
    │   ├── AuthenticationError     401/403                                         (not retried)
    │   ├── BadRequestError         other 4xx                                       (not retried)
    │   └── ModelNotFoundError      unknown model, missing weights, altered file    (not retried)
    ├── SandboxError                the sandbox itself could not run (not: the code failed)
    ├── StoreError                  the SQLite store cannot be opened, migrated or written
    ├── RunError                    a run as a whole cannot go on
    │   ├── RunLockedError          another live process owns the run (names it)
    │   └── RunAbortedError         stopped at once: credentials refused, the model does not
    │                               exist, or every first call failed
    └── BudgetExceeded              a per-sample budget stopped a strategy (control flow)

Exit codes of the CLI: 0 every sample scored; 2 bad input (ConfigError, InputError: nothing
ran); 3 the run finished but some samples errored (listed by kind; ``resume`` retries them);
1 the run failed or was aborted (RunError, StoreError, ...); 130 interrupted (Ctrl-C).

An empty or malformed reply is never an answer: it is retried like a 5xx (bounded by the retry
policy), never cached, and if it persists the call fails with its reason. A reply without
``usage`` is not an error; it is kept with ``Usage.known = False`` and counted.
"""

from __future__ import annotations

__all__ = [
    "AuthenticationError",
    "BadRequestError",
    "BudgetExceeded",
    "ConfigError",
    "ContextWindowError",
    "EmptyCompletionError",
    "InputError",
    "InvalidResponseError",
    "InvalidUsageError",
    "ModelError",
    "ModelNotFoundError",
    "ProviderUnavailableError",
    "RateLimitError",
    "ReflectlabError",
    "RunAbortedError",
    "RunError",
    "RunLockedError",
    "SandboxError",
    "StoreError",
]


class ReflectlabError(Exception):
    """Base class of every error reflectlab raises on purpose."""


class ConfigError(ReflectlabError):
    """A bad option or an unknown name (model, strategy, task, provider)."""


class InputError(ReflectlabError):
    """A user-supplied file is malformed. The message names the file, line and field."""

    def __init__(
        self,
        message: str,
        *,
        path: str | None = None,
        line: int | None = None,
        field: str | None = None,
    ) -> None:
        where = []
        if path is not None:
            where.append(str(path))
        if line is not None:
            where.append(f"line {line}")
        if field is not None:
            where.append(f"field {field!r}")
        super().__init__(f"{': '.join([', '.join(where), message]) if where else message}")
        self.path = path
        self.line = line
        self.field = field


class ModelError(ReflectlabError):
    """A model call failed. ``retryable`` says whether the retry loop may try again."""

    retryable: bool = False

    def __init__(
        self,
        message: str,
        *,
        model: str | None = None,
        base_url: str | None = None,
        status: int | None = None,
        retry_after: float | None = None,
    ) -> None:
        parts = [message]
        if model:
            parts.append(f"model={model}")
        if base_url:
            parts.append(f"url={base_url}")
        super().__init__(" | ".join(parts))
        self.model = model
        self.base_url = base_url
        self.status = status
        self.retry_after = retry_after


class RateLimitError(ModelError):
    retryable = True


class ProviderUnavailableError(ModelError):
    retryable = True


class InvalidResponseError(ModelError):
    """The server answered 200 with something that is not a usable completion. Retried: a
    proxy or an overloaded engine that garbles one reply usually sends a good one next."""

    retryable = True


class EmptyCompletionError(InvalidResponseError):
    """The completion has no text: no choices, or a choice whose content is null, empty or only
    whitespace. Never cached and never scored as the model's answer."""


class InvalidUsageError(ModelError):
    """The server's ``usage`` holds counts that are not non-negative integers. Not retried: a
    server that sends garbage usage sends it every time, and a cost built on it would be wrong."""


class ContextWindowError(ModelError):
    pass


class AuthenticationError(ModelError):
    pass


class BadRequestError(ModelError):
    pass


class ModelNotFoundError(ModelError):
    pass


class SandboxError(ReflectlabError):
    """The sandbox could not start the child process (not: the untrusted code failed)."""


class StoreError(ReflectlabError):
    """The SQLite store could not be opened, migrated or written."""


class RunError(ReflectlabError):
    """A run as a whole cannot go on (not: one sample failed)."""


class RunLockedError(RunError):
    """Another live process owns the run; the message names it."""


class RunAbortedError(RunError):
    """The run was stopped at once because going on could only repeat the same failure
    (credentials refused, unknown model, every first call failed)."""


class BudgetExceeded(ReflectlabError):
    """Raised inside a strategy when a per-sample budget runs out; the runner catches it."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason
