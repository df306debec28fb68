"""Tool feedback from execution: model-written code run in the sandbox, and a calculator.

:class:`CodeExecutionFeedback` runs ``request.code`` through :func:`reflectlab.sandbox.run_python`
(a separate, resource-limited process: untrusted code never runs in this process) and hands the
refiner what a programmer would look at: how the program ended, its output and its errors,
clipped so a runaway ``print`` cannot flood the next prompt. Its verdict comes from an explicit
printed marker (``VERDICT: PASS`` / ``VERDICT: FAIL``, the last one wins), else from an uncaught
``AssertionError`` (a failed check), else — only with ``verdict="exit"`` — from the exit status.
A program that crashes for another reason, times out or runs out of memory says nothing about
the answer, so its verdict is "unknown".

"Correct" also needs the program to have run to its end: it runs as ``program.py`` under a
small runner that, once the module's last statement is done, writes a nonce it read from the
sandbox's private channel (before the program started) back on that channel. A program that
leaves early with status 0 (``sys.exit(0)``, ``os._exit(0)``, a thread or signal that exits)
skipped whatever checks came after, so its PASS marker or clean exit is "unknown", never
"correct". (The program shares the runner's interpreter; one written to dig the nonce out of
memory could forge the end, see :mod:`reflectlab.task._code`. This guards against exits, not
against that.)

:class:`CalculatorFeedback` finds arithmetic claims such as ``3*17 = 41`` in a reply and
recomputes them with an AST-walking evaluator of numbers and + - * / ^ (no ``eval``), reporting
each mismatch as ``3*17 = 51, not 41``.

Both are sources a strategy instantiates with its own settings (sandbox limits, ...) and asks
through :func:`reflectlab.strategy.feedback_from`; ``feedback_source("tool")`` stays the task's
own label-free check.
"""

from __future__ import annotations

import ast
import math
import re
import secrets
from fractions import Fraction
from typing import Any, ClassVar, Literal

from reflectlab.errors import ConfigError
from reflectlab.feedback._base import (
    Feedback,
    FeedbackContext,
    FeedbackKind,
    FeedbackRequest,
    FeedbackSource,
    Verdict,
)
from reflectlab.sandbox import (
    CHANNEL_IN_FD,
    CHANNEL_OUT_FD,
    SandboxLimits,
    SandboxResult,
    run_python,
)

PASS_MARKER = "VERDICT: PASS"
FAIL_MARKER = "VERDICT: FAIL"
_MARKER_RE = re.compile(r"^\s*VERDICT\s*:\s*(PASS|FAIL)\b", re.I | re.M)
_FENCE_RE = re.compile(r"```[ \t]*([A-Za-z0-9_+-]*)[^\n]*\n(.*?)```", re.S)

_REASON_TEXT = {
    "ok": "The program finished normally (exit status 0).",
    "error": "The program failed (exit status {code}).",
    "timeout": "The program was stopped: it exceeded the time limit.",
    "memory": "The program was stopped: it ran out of memory.",
    "cpu": "The program was stopped: it used up its CPU time limit.",
    "output_limit": "The program was stopped: it wrote too much output.",
    "killed": "The program was killed by a signal (exit status {code}).",
}


def extract_python_code(text: str) -> str | None:
    """The Python code in a model reply: every fenced block tagged ``python``/``py`` (or, if
    none is tagged, every untagged block), joined in order. ``None`` when there is none — the
    caller counts that as an unparseable reply rather than running prose."""
    blocks = [(lang.lower(), body) for lang, body in _FENCE_RE.findall(text)]
    tagged = [body for lang, body in blocks if lang in ("python", "py", "python3")]
    chosen = tagged or [body for lang, body in blocks if not lang]
    code = "\n\n".join(b.strip("\n") for b in chosen if b.strip())
    return code or None


def clip(text: str, limit: int, *, keep_tail: float = 0.5) -> str:
    """``text`` cut to about ``limit`` characters, keeping its start and its end (a traceback's
    last line says what went wrong, so stderr keeps more tail)."""
    if len(text) <= limit:
        return text
    tail = int(limit * keep_tail)
    head = limit - tail
    omitted = len(text) - head - tail
    return f"{text[:head]}\n... [{omitted} characters omitted] ...\n{text[len(text) - tail :]}"


def execution_verdict(
    result: SandboxResult, *, mode: Literal["marker", "exit"], completed: bool = True
) -> Verdict:
    """The verdict of a run: last printed marker, else a failed assertion, else (``exit`` mode)
    the exit status. Contradictions (PASS printed, then a crash) are "unknown", and so is a
    pass from a program that did not run to its end (``completed=False``)."""
    finished = result.ok and completed
    markers = _MARKER_RE.findall(result.stdout)
    if markers:
        last = markers[-1].upper()
        if last == "FAIL":
            return "incorrect"
        return "correct" if finished else "unknown"
    if result.reason == "error" and _last_line(result.stderr).startswith("AssertionError"):
        return "incorrect"
    if mode == "exit":
        if finished:
            return "correct"
        if result.reason == "error":
            return "incorrect"
    return "unknown"


PROGRAM_FILE = "program.py"
"""The name the program runs under in the sandbox's work dir (its tracebacks show it)."""

# main.py: runs program.py as __main__, as `python program.py` would, and reports on the
# private channel that its last statement finished. A SystemExit keeps its status but is no
# end; an uncaught exception prints the traceback Python would print (without this frame).
_RUNNER = f"""\
def _run():
    import os, sys, traceback, types

    write, read, close = os.write, os.read, os.close
    err, print_exception = sys.stderr, traceback.print_exception
    chunks = []
    while True:
        chunk = read({CHANNEL_IN_FD}, 4096)
        if not chunk:
            break
        chunks.append(chunk)
    close({CHANNEL_IN_FD})
    nonce = b"".join(chunks)
    del chunks
    module = types.ModuleType("__main__")
    module.__file__ = {PROGRAM_FILE!r}
    sys.modules["__main__"] = module
    sys.argv[0] = {PROGRAM_FILE!r}
    with open({PROGRAM_FILE!r}, encoding="utf-8") as f:
        source = f.read()
    try:
        exec(compile(source, {PROGRAM_FILE!r}, "exec"), module.__dict__)
    except SystemExit:
        raise
    except BaseException as e:
        tb = e.__traceback__.tb_next if e.__traceback__ is not None else None
        print_exception(type(e), e, tb, file=err)
        err.flush()
        os._exit(1)
    write({CHANNEL_OUT_FD}, b"\\n" + nonce + b" END\\n")


_run()
"""


def _last_line(text: str) -> str:
    lines = [ln for ln in text.strip().splitlines() if ln.strip()]
    return lines[-1].strip() if lines else ""


def format_execution(
    result: SandboxResult, *, max_chars: int = 2000, completed: bool = True
) -> str:
    """What the refiner reads about a run: how it ended, then its output and errors."""
    status = _REASON_TEXT.get(result.reason, f"The program ended: {result.reason}.")
    if result.ok and not completed:
        status = "The program exited (status 0) before reaching its end."
    parts = [status.format(code=result.exit_code)]
    out_budget = max_chars // 2 if result.stderr.strip() else max_chars
    if result.stdout.strip():
        note = " (truncated by the sandbox)" if result.stdout_truncated else ""
        parts.append(f"Output{note}:\n{clip(result.stdout.rstrip(), out_budget)}")
    else:
        parts.append("Output: (nothing printed)")
    if result.stderr.strip():
        note = " (truncated by the sandbox)" if result.stderr_truncated else ""
        budget = max_chars - out_budget if result.stdout.strip() else max_chars
        parts.append(
            f"Errors{note}:\n{clip(result.stderr.rstrip(), max(200, budget), keep_tail=0.8)}"
        )
    return "\n".join(parts)


class CodeExecutionFeedback(FeedbackSource):
    """Run ``request.code`` in the sandbox; the feedback is how it ended and what it printed.

    Example::

        source = CodeExecutionFeedback(limits=SandboxLimits(wall_seconds=5))
        fb = await feedback_from(ctx, source, FeedbackRequest(response, round=1, code=program))
    """

    kind: ClassVar[FeedbackKind] = "tool"
    name = "code-execution"

    def __init__(
        self,
        *,
        limits: SandboxLimits | None = None,
        files: dict[str, str] | None = None,
        stdin: str | None = None,
        verdict: Literal["marker", "exit"] = "marker",
        max_chars: int = 2000,
    ) -> None:
        if verdict not in ("marker", "exit"):
            raise ConfigError(f"verdict must be 'marker' or 'exit', not {verdict!r}")
        if max_chars < 200:
            raise ConfigError(f"max_chars must be at least 200, not {max_chars}")
        if files and PROGRAM_FILE in files:
            raise ConfigError(f"files: {PROGRAM_FILE!r} is the name the program runs under")
        self.limits = limits
        self.files = files
        self.stdin = stdin
        self.verdict = verdict
        self.max_chars = max_chars

    @classmethod
    def with_timeout(cls, timeout_s: float, **options: Any) -> CodeExecutionFeedback:
        """A source whose runs stop after ``timeout_s`` seconds (wall clock, and as much CPU
        time rounded up); the sandbox's other limits keep their defaults."""
        if not timeout_s > 0:
            raise ConfigError(f"timeout_s must be > 0, not {timeout_s}")
        limits = SandboxLimits.model_validate(
            {"wall_seconds": timeout_s, "cpu_seconds": max(1, math.ceil(timeout_s))}
        )
        return cls(limits=limits, **options)

    async def __call__(self, ctx: FeedbackContext, request: FeedbackRequest) -> Feedback:
        if request.code is None:
            raise ConfigError("code execution feedback needs the code to run (request.code)")
        nonce = secrets.token_hex(16)
        result = await run_python(
            _RUNNER,
            stdin=self.stdin,
            limits=self.limits,
            files={**(self.files or {}), PROGRAM_FILE: request.code},
            channel=nonce.encode(),
        )
        ends = [ln for ln in (result.channel or "").split("\n") if ln.startswith(nonce)]
        completed = ends == [f"{nonce} END"]
        return Feedback(
            kind=self.kind,
            source=self.name,
            text=format_execution(result, max_chars=self.max_chars, completed=completed),
            verdict=execution_verdict(result, mode=self.verdict, completed=completed),
            round=request.round,
            details={
                "completed": completed,
                "reason": result.reason,
                "exit_code": result.exit_code,
                "duration_s": result.duration_s,
                "stdout_truncated": result.stdout_truncated,
                "stderr_truncated": result.stderr_truncated,
            },
        )


# -- calculator --------------------------------------------------------------------------------

_NUM = r"\$?\d+(?:,\d{3})*(?:\.\d+)?"
_OP = r"(?:\*\*|[-+*/×÷^·])"
_OPERAND = rf"\(*\s*-?\s*{_NUM}\s*\)*"
_CLAIM_RE = re.compile(
    rf"(?P<expr>{_OPERAND}(?:\s*{_OP}\s*{_OPERAND})+)\s*=\s*(?=(?P<value>-?\s*{_NUM}))"
)
_MAX_EXPONENT = 1000
_MAX_MAGNITUDE = Fraction(10) ** 100


class _Unsafe(ValueError):
    """An expression outside the calculator's arithmetic (or too large to compute)."""


def evaluate_arithmetic(expression: str) -> Fraction:
    """Exactly evaluate numbers with + - * / ^ (or **) and parentheses, by walking the AST.

    Raises ``ValueError`` for anything else (names, calls, attributes), for division by zero
    and for results beyond 1e100 — never executes code.
    """
    text = expression.replace("×", "*").replace("·", "*").replace("÷", "/").replace("^", "**")
    text = text.replace("$", "").replace(",", "")
    try:
        tree = ast.parse(text.strip(), mode="eval")
    except SyntaxError as exc:
        raise _Unsafe(f"not an arithmetic expression: {expression!r}") from exc
    return _eval(tree.body)


def _eval(node: ast.expr) -> Fraction:
    if isinstance(node, ast.Constant) and type(node.value) in (int, float):
        try:
            return Fraction(str(node.value))
        except (ValueError, OverflowError) as exc:  # inf, nan
            raise _Unsafe(f"not a finite number: {node.value!r}") from exc
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub | ast.UAdd):
        value = _eval(node.operand)
        return -value if isinstance(node.op, ast.USub) else value
    if isinstance(node, ast.BinOp):
        left, right = _eval(node.left), _eval(node.right)
        result = _binop(node.op, left, right)
        if abs(result) > _MAX_MAGNITUDE:
            raise _Unsafe("result too large")
        return result
    raise _Unsafe(f"unsupported element {type(node).__name__}")


def _binop(op: ast.operator, left: Fraction, right: Fraction) -> Fraction:
    if isinstance(op, ast.Add):
        return left + right
    if isinstance(op, ast.Sub):
        return left - right
    if isinstance(op, ast.Mult):
        return left * right
    if isinstance(op, ast.Div):
        if right == 0:
            raise _Unsafe("division by zero")
        return left / right
    if isinstance(op, ast.Pow):
        if right.denominator != 1 or abs(right) > _MAX_EXPONENT:
            raise _Unsafe("only whole exponents up to 1000 are computed")
        if left == 0 and right < 0:
            raise _Unsafe("division by zero")
        if left != 0 and abs(right) * math.log10(max(abs(float(left)), 1e-300)) > 100:
            raise _Unsafe("result too large")
        return left ** int(right)
    raise _Unsafe(f"unsupported operator {type(op).__name__}")


def _format_number(value: Fraction) -> str:
    if value.denominator == 1:
        return str(value.numerator)
    return f"{float(value):.10g}"


def _matches(computed: Fraction, claimed_text: str) -> bool:
    """A claim matches if it equals the exact value rounded to the claim's own decimals."""
    claimed_text = claimed_text.replace("$", "").replace(",", "").replace(" ", "")
    claimed = Fraction(claimed_text)
    decimals = len(claimed_text.split(".")[1]) if "." in claimed_text else 0
    if claimed == computed:
        return True
    tolerance = Fraction(1, 2 * 10**decimals) if decimals else Fraction(0)
    return decimals > 0 and abs(computed - claimed) <= tolerance


def _balance(expr: str) -> str:
    """Drop the unmatched parentheses a regex match can pick up at either end."""
    expr = expr.strip()
    while expr.startswith("(") and expr.count("(") > expr.count(")"):
        expr = expr[1:].lstrip()
    while expr.endswith(")") and expr.count(")") > expr.count("("):
        expr = expr[:-1].rstrip()
    return expr


def check_arithmetic(text: str) -> tuple[list[str], list[str]]:
    """The arithmetic claims ``expr = value`` in ``text``: (all checked claims, mismatches).
    Mismatches read ``3*17 = 51, not 41``; a claim dividing by zero is a mismatch too."""
    checked: list[str] = []
    wrong: list[str] = []
    for m in _CLAIM_RE.finditer(text):
        expr, value = _balance(m.group("expr")), m.group("value").replace(" ", "")
        try:
            computed = evaluate_arithmetic(expr)
        except _Unsafe as exc:
            if "division by zero" in str(exc):
                checked.append(f"{expr} = {value}")
                wrong.append(f"{expr} is undefined (division by zero), not {value}")
            continue
        checked.append(f"{expr} = {value}")
        if not _matches(computed, value):
            wrong.append(f"{expr} = {_format_number(computed)}, not {value}")
    return checked, wrong


class CalculatorFeedback(FeedbackSource):
    """Recompute the arithmetic claims in ``request.response``; report each mismatch.

    Verdict: "incorrect" if any claim is wrong, "correct" if at least one was checked and all
    hold (the arithmetic, not necessarily the reasoning), "unknown" if there was none to check.
    """

    kind: ClassVar[FeedbackKind] = "tool"
    name = "calculator"

    async def __call__(self, ctx: FeedbackContext, request: FeedbackRequest) -> Feedback:
        checked, wrong = check_arithmetic(request.response)
        if wrong:
            text = "Calculator: these calculations are wrong:\n" + "\n".join(
                f"- {w}" for w in wrong
            )
            verdict: Verdict = "incorrect"
        elif checked:
            text = f"Calculator: all {len(checked)} calculations check out."
            verdict = "correct"
        else:
            text = "Calculator: no calculations (like '3*17 = 51') were found to check."
            verdict = "unknown"
        return Feedback(
            kind=self.kind,
            source=self.name,
            text=text,
            verdict=verdict,
            round=request.round,
            details={"checked": checked, "wrong": wrong},
        )
