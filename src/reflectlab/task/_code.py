"""Code answers: finding the program in a reply, and running tests on it in the sandbox.

Model-written code never runs in this process: every program goes through
:func:`reflectlab.sandbox.run_python`, at most :data:`SANDBOX_CONCURRENCY` at a time per event
loop (each run is a separate process tree; more in flight only thrashes the CPU).

A reply may hold its code three ways, all accepted: a HumanEval-style *completion* (the body
that continues the prompt), a *full definition* of the function, or either inside a fenced
markdown block of a chat reply. :func:`extract_code` tells them apart.

Tests run under a harness, and a pass is the harness having seen the tests finish, never the
program exiting (``sys.exit(0)``, ``os._exit(0)``, an atexit or excepthook exit, a thread or
signal that exits, a fork whose parent exits) nor anything it prints. :func:`run_check`
(HumanEval: ``check(candidate)``) and :func:`run_examples` (call/expected pairs: compared
with ``==``, floats with a relative tolerance of 1e-6, only plain values, so an object whose
``__eq__`` is always true fails) share it.

How the verdict travels
-----------------------
The sandbox's main program is the harness; the candidate is ``solution.py`` in the work dir.
The tests and a fresh 128-bit nonce reach the harness only on the sandbox's private channel
(a memfd: no file, no argv, no environment), which it reads and closes before one line of
the candidate runs. It binds everything its verdict depends on (``os.write``, ``os._exit``,
``compile``, ``exec``, ``json.dumps``, ``math.isclose``...) up front and runs in globals of its
own with a private copy of the builtins, so patching ``builtins``, ``json`` or ``sys.stdout``
changes nothing it uses. It executes the candidate as module ``solution`` (a
``SystemExit`` or any other exception there is a failure), clears trace and profile hooks,
runs the tests with the builtins as they were before the candidate, and only when they
finish writes ``<nonce> PASS 1`` or ``<nonce> RESULT <json>`` to the channel's pipe, then
leaves with ``os._exit`` (no hook of the candidate runs after it). The parent accepts exactly
one such line from a run the sandbox reports ``ok``, and (for examples) only rows for the
very tests it sent.

What this stops: every exit, kill, crash or timeout (no line); printed or written markers,
including to every descriptor (no nonce); reading descriptors or files for the nonce or the
expected answers (closed before the candidate runs; the tests were never in a file); patching
what the harness calls; a fork reporting twice.

What an in-process adversary can still do (it shares the harness's interpreter): find the
nonce, the tests or the harness's result list in memory (``gc.get_objects()``, frames via
``sys._current_frames()`` or ``sys._getframe``, ``ctypes``, ``/proc/self/mem``) and write a
forged line, or alter a frame under test (``f_trace`` jumps over an ``assert``); and, on
HumanEval, where the test's own ``==`` and helpers decide, return an object equal to
everything or patch a stdlib function the test calls (``math.fabs``). None of this happens
by accident or by exiting: it takes code written to attack this harness. Closing it would
take the tests in a process of their own, talking to the candidate across a process
boundary.
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

from reflectlab.sandbox import (
    CHANNEL_IN_FD,
    CHANNEL_OUT_FD,
    SandboxLimits,
    SandboxResult,
    run_python,
)
from reflectlab.task._base import Extracted

__all__ = [
    "SANDBOX_CONCURRENCY",
    "CodeReply",
    "ExampleOutcome",
    "HarnessRun",
    "docstring_examples",
    "extract_code",
    "run_check",
    "run_examples",
    "run_harnessed",
    "run_sandboxed",
    "sandbox_failure",
]

#: Sandboxed programs in flight at once, per event loop.
SANDBOX_CONCURRENCY = 4

_slots: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Semaphore] = (
    weakref.WeakKeyDictionary()
)


async def run_sandboxed(
    code: str,
    limits: SandboxLimits | None = None,
    *,
    files: dict[str, str] | None = None,
    channel: bytes | None = None,
) -> SandboxResult:
    """:func:`run_python` behind the per-loop concurrency cap."""
    loop = asyncio.get_running_loop()
    slots = _slots.get(loop)
    if slots is None:
        slots = _slots[loop] = asyncio.Semaphore(SANDBOX_CONCURRENCY)
    async with slots:
        return await run_python(code, limits=limits, files=files, channel=channel)


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


# The harness is the program the sandbox runs; the candidate is its data. It is stdlib-only
# Python and reads its instructions from the sandbox's private channel before a line of the
# candidate runs (see the module docstring for why, and what is left). It runs in globals of
# its own whose builtins are a private copy, so patching ``builtins`` (``all``, ``compile``,
# ``exec``...) changes nothing the harness uses; main.py is only the line that starts it.
_HARNESS_MAIN = (
    "import builtins\n"
    "exec(compile(%r, '<reflectlab harness>', 'exec'),"
    " {'__builtins__': dict(vars(builtins)), '__name__': 'reflectlab_harness'})\n"
)
_HARNESS = r"""
def harness():
    import builtins, json, math, os, sys, threading, traceback, types

    # Everything the verdict depends on is bound now, before the candidate can patch it.
    write, close, exit_, read = os.write, os.close, os._exit, os.read
    dumps, isclose = json.dumps, math.isclose
    out, err, exc_info = sys.stdout, sys.stderr, sys.exc_info
    print_exception = traceback.print_exception
    settrace, setprofile = sys.settrace, sys.setprofile
    t_settrace, t_setprofile = threading.settrace, threading.setprofile
    pristine = dict(builtins.__dict__)
    chunks = []
    while True:
        chunk = read(%(in_fd)d, 1 << 16)
        if not chunk:
            break
        chunks.append(chunk)
    close(%(in_fd)d)  # gone before the candidate runs: it cannot read the secret again
    spec = json.loads(b"".join(chunks))
    nonce = spec.pop("nonce").encode()
    del chunks

    def finish(status, line=None):
        if line is not None:
            try:
                write(%(out_fd)d, b"\n" + nonce + b" " + line.encode() + b"\n")
            except OSError:
                status = 1  # the candidate closed or replaced the channel: no verdict
        for stream in (out, err):
            try:
                stream.flush()
            except BaseException:
                pass
        # Straight out: no atexit hook, excepthook or thread of the candidate runs after this.
        exit_(status)

    def failed(what):
        try:
            kind, error, tb = exc_info()
            err.write("reflectlab harness: " + what + "\n")
            # From the candidate's or the test's frame on, as Python itself would show it.
            print_exception(kind, error, tb.tb_next if tb is not None else None, file=err)
        except BaseException:
            pass
        finish(1)

    module = types.ModuleType("solution")
    module.__file__ = "solution.py"
    sys.modules["solution"] = module
    scope = module.__dict__
    try:
        with open("solution.py", encoding="utf-8") as f:
            source = f.read()
        exec(compile(source, "solution.py", "exec"), scope)
    except BaseException:  # SystemExit and KeyboardInterrupt too: the candidate did not load
        failed("the code raised while it was being defined")
    # The tests run with the builtins as they were before the candidate ran, and without any
    # trace or profile hook it installed (one could jump over a failing assert).
    for hook in (settrace, setprofile, t_settrace, t_setprofile):
        hook(None)
    scope["__builtins__"] = pristine
    if spec["mode"] == "check":
        try:
            exec(compile(spec["test"], "<tests>", "exec"), scope)
            check, candidate = scope["check"], scope[spec["entry_point"]]
            check(candidate)
        except BaseException:
            failed("the tests did not pass")
        finish(0, "PASS 1")
    plain_types = (bool, int, float, complex, str, bytes, type(None))

    def plain(v, depth=0):
        # Only values whose == and repr() are Python's own are compared: a returned object with
        # an __eq__ that is always True, or a __repr__ that echoes the expected text, is not.
        if type(v) in plain_types:
            return True
        if depth > 50 or type(v) not in (list, tuple, dict, set, frozenset):
            return False
        items = [x for kv in v.items() for x in kv] if type(v) is dict else list(v)
        return all(plain(x, depth + 1) for x in items)

    def same(a, b):
        if isinstance(a, float) or isinstance(b, float):
            try:
                return isclose(a, b, rel_tol=1e-6, abs_tol=1e-9)
            except TypeError:
                return False
        if isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)):
            return type(a) is type(b) and len(a) == len(b) and all(map(same, a, b))
        return a == b

    rows = []
    for call, want in spec["tests"]:
        try:
            got = eval(call, scope)
        except BaseException as e:  # an exit inside one call fails that call only
            rows.append([call, want, None, type(e).__name__ + ": " + str(e)[:200]])
            continue
        for hook in (settrace, setprofile):
            hook(None)
        if not plain(got):
            error = "returned a " + type(got).__name__ + ", not a plain value"
            rows.append([call, want, None, error])
            continue
        try:
            ok = same(got, eval(want, {"__builtins__": pristine}))
        except BaseException:
            ok = False
        ok = ok or repr(got) == want
        rows.append([call, want, repr(got)[:300], None if ok else "wrong value"])
    finish(0, "RESULT " + dumps(rows))


harness()
"""


@dataclass(frozen=True)
class HarnessRun:
    """What the harness reported (``None`` if it never did) and the sandbox's account."""

    report: str | None
    result: SandboxResult


async def run_harnessed(
    program: str, spec: dict[str, Any], limits: SandboxLimits | None = None
) -> HarnessRun:
    """Run ``program`` under the harness with ``spec`` (``mode`` ``check`` or ``examples``).

    The report is the text after the nonce on the one line of the private channel that
    starts with it, and only from a run the sandbox calls ``ok``: a second such line (a
    fork), none (an exit, a crash, a kill), or a stray one means no report.
    """
    nonce = secrets.token_hex(16)
    channel = json.dumps({**spec, "nonce": nonce}).encode()
    harness = _HARNESS_MAIN % (_HARNESS % {"in_fd": CHANNEL_IN_FD, "out_fd": CHANNEL_OUT_FD})
    result = await run_sandboxed(harness, limits, files={"solution.py": program}, channel=channel)
    lines = [ln for ln in (result.channel or "").split("\n") if ln.startswith(nonce)]
    if not result.ok or len(lines) != 1 or not lines[0].startswith(nonce + " "):
        return HarnessRun(None, result)
    return HarnessRun(lines[0][len(nonce) + 1 :], result)


async def run_check(
    program: str, test: str, entry_point: str, limits: SandboxLimits | None = None
) -> tuple[bool, SandboxResult]:
    """HumanEval's scoring: define ``program``, then ``test``, then call
    ``check(entry_point)``; passed only if the harness saw ``check`` return."""
    spec = {"mode": "check", "test": test, "entry_point": entry_point}
    run = await run_harnessed(program, spec, limits)
    return run.report == "PASS 1", run.result


async def run_examples(
    program: str, tests: list[tuple[str, str]], limits: SandboxLimits | None = None
) -> tuple[list[ExampleOutcome] | None, SandboxResult]:
    """Run ``program`` then each ``(call, expected)`` test in one sandboxed process.

    Returns the outcomes, or ``None`` when the harness did not get as far as reporting them
    (a syntax error, a crash or timeout at definition time, an exit, a forged report).
    """
    run = await run_harnessed(program, {"mode": "examples", "tests": tests}, limits)
    if run.report is None or not run.report.startswith("RESULT "):
        return None, run.result
    try:
        rows: list[list[Any]] = json.loads(run.report[len("RESULT ") :])
        outcomes = [ExampleOutcome(*row) for row in rows]
    except (ValueError, TypeError):
        return None, run.result
    if [(o.call, o.expected) for o in outcomes] != [tuple(t) for t in tests]:
        return None, run.result  # not the tests we sent: not the harness's report
    return outcomes, run.result
