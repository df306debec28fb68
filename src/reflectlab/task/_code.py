"""Code answers: finding the program in a reply, and running tests on it in the sandbox.

Model-written code never runs in this process: every program goes through
:func:`reflectlab.sandbox.run_python`, at most :data:`SANDBOX_CONCURRENCY` at a time per event
loop (each run is a separate process tree; more in flight only thrashes the CPU).

A reply may hold its code three ways, all accepted: a HumanEval-style *completion* (the body
that continues the prompt), a *full definition* of the function, or either inside a fenced
markdown block of a chat reply. :func:`extract_code` tells them apart.

Example tests are run by a small harness appended to the program: each test is a call and
the expected value, both as Python source; the harness evaluates them, compares (``==``, floats
with a relative tolerance of 1e-6) and prints one JSON line behind a random marker, so output
printed by the program itself cannot fake a pass.
"""

from __future__ import annotations

import ast
import asyncio
import json
import re
import secrets
import weakref
from dataclasses import dataclass
from typing import Any, Literal

from reflectlab.sandbox import SandboxLimits, SandboxResult, run_python
from reflectlab.task._base import Extracted

__all__ = [
    "SANDBOX_CONCURRENCY",
    "CodeReply",
    "ExampleOutcome",
    "docstring_examples",
    "extract_code",
    "run_examples",
    "run_sandboxed",
    "sandbox_failure",
]

#: Sandboxed programs in flight at once, per event loop.
SANDBOX_CONCURRENCY = 4

_slots: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Semaphore] = (
    weakref.WeakKeyDictionary()
)


async def run_sandboxed(code: str, limits: SandboxLimits | None = None) -> SandboxResult:
    """:func:`run_python` behind the per-loop concurrency cap."""
    loop = asyncio.get_running_loop()
    slots = _slots.get(loop)
    if slots is None:
        slots = _slots[loop] = asyncio.Semaphore(SANDBOX_CONCURRENCY)
    async with slots:
        return await run_python(code, limits=limits)


def sandbox_failure(result: SandboxResult, *, limit: int = 600) -> str:
    """A short account of why a program failed: the stop reason and the end of stderr."""
    if result.reason == "timeout":
        return "timed out"
    if result.reason in ("cpu", "memory", "output_limit"):
        return f"exceeded the {result.reason.replace('_', ' ')} limit"
    tail = result.stderr.strip()
    if not tail:
        return f"failed ({result.reason}, exit code {result.exit_code})"
    lines = tail.splitlines()
    # The last line names the exception; the lines just before it show where.
    text = "\n".join(lines[-6:])
    return text if len(text) <= limit else "..." + text[-limit:]


# ---------------------------------------------------------------- extraction

_FENCE = re.compile(r"```[ \t]*([\w+-]*)[^\n]*\n(.*?)(?:```|\Z)", re.DOTALL)
_CODE_START = re.compile(r"^(?:async\s+def|def|class|import|from|@)\b")


@dataclass(frozen=True)
class CodeReply:
    """The code of a reply: ``mode`` says whether it continues a prompt or stands alone."""

    code: str
    mode: Literal["completion", "full"]


def _defines(code: str, name: str | None) -> bool:
    if name is None:
        return bool(re.search(r"^(?:async\s+)?def\s+\w+\s*\(", code, re.MULTILINE))
    return bool(re.search(rf"^(?:async\s+)?def\s+{re.escape(name)}\s*\(", code, re.MULTILINE))


def _parses(code: str) -> bool:
    try:
        ast.parse(code)
    except (SyntaxError, ValueError):
        return False
    return True


def _trim_prose(text: str) -> str:
    """A reply with prose around unfenced code: the widest run of lines that parses, starting
    at a line that opens code (``def``, ``import``, ...)."""
    if _parses(text):
        return text
    lines = text.split("\n")
    starts = [i for i, line in enumerate(lines) if _CODE_START.match(line)]
    for start in starts[:20]:
        for end in range(len(lines), start, -1):
            candidate = "\n".join(lines[start:end])
            if _parses(candidate):
                return candidate
    return text


def extract_code(response: str, entry_point: str | None = None) -> tuple[CodeReply | None, str]:
    """The code of a reply and how it was found (a reason, also for ``None``).

    Fenced blocks are preferred (the one that defines ``entry_point``, else the first tagged
    Python, else the longest). Code with a top-level ``def entry_point(`` is a full definition;
    anything else is a completion of the prompt, used verbatim as HumanEval's samples are.
    """
    if not response.strip():
        return None, "empty reply"
    blocks = [(m.group(1).lower(), m.group(2)) for m in _FENCE.finditer(response)]
    if blocks:
        defining = [code for _, code in blocks if _defines(code, entry_point)]
        tagged = [code for lang, code in blocks if lang in ("python", "py", "python3")]
        code = (defining or tagged or [max((c for _, c in blocks), key=len)])[0]
        how = "fenced block"
    else:
        code, how = response, "reply text"
    if not code.strip():
        return None, "empty code block"
    if _defines(code, entry_point):
        return CodeReply(code=_trim_prose(code).strip("\n") + "\n", mode="full"), how
    return CodeReply(code=code.rstrip() + "\n", mode="completion"), how


def normalize_code(code: str) -> str:
    """Code compared for voting: trailing spaces and blank lines do not matter."""
    return "\n".join(line.rstrip() for line in code.splitlines() if line.strip())


def code_extracted(reply: CodeReply | None, how: str) -> Extracted:
    if reply is None:
        return Extracted(value=None, reason=how)
    value = normalize_code(reply.code)
    return Extracted(value=value or None, reason=how if value else "no code in the reply")


# ---------------------------------------------------------------- example tests

_DOCTEST = re.compile(r"^(?P<indent>[ \t]*)>>>[ \t]?(?P<src>.*)$")
# "f(2) == 4", "f(2) ➞ 4", "f(2) => 4", "f(2) returns 4", "f(2) should return 4.", ...
_INLINE_SEP = re.compile(
    r"^\s*(?:==>|==|=>|->|➞|→|#\s*returns?|returns|should\s+return|should\s+be)\s*(?P<want>.+)$"
)


def _is_literal(source: str) -> bool:
    try:
        ast.literal_eval(source)
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
        return False
    return True


def _literal_call(source: str, entry_point: str) -> bool:
    """``entry_point(<literals>)``: a call whose arguments need nothing but the function."""
    try:
        node = ast.parse(source, mode="eval").body
    except SyntaxError:
        return False
    return (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Name)
        and node.func.id == entry_point
        and not node.keywords
        and all(_is_literal(ast.unparse(arg)) for arg in node.args)
    )


def _doctest_examples(lines: list[str], entry_point: str) -> list[tuple[str, str]]:
    examples: list[tuple[str, str]] = []
    i = 0
    while i < len(lines):
        match = _DOCTEST.match(lines[i])
        i += 1
        if match is None or not re.search(rf"\b{re.escape(entry_point)}\s*\(", match["src"]):
            continue
        expected: list[str] = []
        while i < len(lines):
            line = lines[i].strip()
            if not line or line.startswith((">>>", '"""', "'''")):
                break
            expected.append(line)
            i += 1
        want = " ".join(expected).strip()
        if want and _parses(match["src"].strip()):
            examples.append((match["src"].strip(), want))
    return examples


def _inline_examples(lines: list[str], entry_point: str) -> list[tuple[str, str]]:
    examples: list[tuple[str, str]] = []
    call_start = re.compile(rf"(?<![\w.]){re.escape(entry_point)}\s*\(")
    for line in lines:
        if _DOCTEST.match(line) or re.match(r"\s*(?:async\s+)?def\s", line):
            continue
        for match in call_start.finditer(line):
            depth, end = 0, None
            for j in range(match.end() - 1, len(line)):
                depth += {"(": 1, ")": -1}.get(line[j], 0)
                if depth == 0:
                    end = j + 1
                    break
            if end is None:
                continue
            sep = _INLINE_SEP.match(line[end:])
            if sep is None:
                continue
            call = line[match.start() : end]
            want = sep["want"].strip().rstrip(".").strip()
            if _literal_call(call, entry_point) and _is_literal(want):
                examples.append((call, want))
    return examples


def docstring_examples(prompt: str, entry_point: str) -> list[tuple[str, str]]:
    """``(call, expected)`` pairs of the examples a prompt shows for ``entry_point``.

    Two notations are recognised: doctest (``>>> f(2)`` with the output on the next lines) and
    one-line examples (``f(2) == 4``, ``f(2) ➞ 4``, ``f(2) => 4``, ``f(2) returns 4``, ...)
    whose arguments and result are Python literals. Anything else (prose, multi-line calls,
    ``true`` for ``True``, worked arithmetic) is not an example: a misread example would
    report a correct program as failing.
    """
    lines = prompt.splitlines()
    examples = _doctest_examples(lines, entry_point)
    seen = {call for call, _ in examples}
    for call, want in _inline_examples(lines, entry_point):
        if call not in seen:
            seen.add(call)
            examples.append((call, want))
    return examples


@dataclass(frozen=True)
class ExampleOutcome:
    """One example test: the call, the expected value, what came back, and the error."""

    call: str
    expected: str
    got: str | None
    error: str | None

    @property
    def passed(self) -> bool:
        return self.error is None

    def describe(self) -> str:
        if self.passed:
            return f"{self.call} == {self.expected}: passed"
        if self.got is None:
            return f"{self.call} raised {self.error}"
        return f"{self.call} returned {self.got}, expected {self.expected}"


_HARNESS = """

def __reflectlab_examples(__tests, __marker):
    import json as __json
    import math as __math

    def __same(a, b):
        if isinstance(a, float) or isinstance(b, float):
            try:
                return __math.isclose(a, b, rel_tol=1e-6, abs_tol=1e-9)
            except TypeError:
                return False
        if isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)):
            return type(a) is type(b) and len(a) == len(b) and all(map(__same, a, b))
        return a == b

    out = []
    for __call, __want in __tests:
        try:
            __got = eval(__call, globals())
        except BaseException as __e:
            out.append([__call, __want, None, type(__e).__name__ + ": " + str(__e)[:200]])
            continue
        try:
            __ok = __same(__got, eval(__want, globals()))
        except BaseException:
            __ok = False
        __ok = __ok or repr(__got) == __want
        out.append([__call, __want, repr(__got)[:300], None if __ok else "wrong value"])
    print(__marker + __json.dumps(out), flush=True)

__reflectlab_examples(%s, %r)
"""


async def run_examples(
    program: str, tests: list[tuple[str, str]], limits: SandboxLimits | None = None
) -> tuple[list[ExampleOutcome] | None, SandboxResult]:
    """Run ``program`` then each ``(call, expected)`` test in one sandboxed process.

    Returns the outcomes, or ``None`` when the program did not get as far as reporting (a
    syntax error, a crash or timeout at import time, an early ``exit()``).
    """
    marker = f"@@reflectlab-{secrets.token_hex(8)}@@"
    result = await run_sandboxed(program + _HARNESS % (repr(tests), marker), limits)
    for line in reversed(result.stdout.splitlines()):
        if line.startswith(marker):
            try:
                rows: list[list[Any]] = json.loads(line[len(marker) :])
            except json.JSONDecodeError:
                break
            return [ExampleOutcome(*row) for row in rows], result
    return None, result
