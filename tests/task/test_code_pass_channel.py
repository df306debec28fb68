"""A pass is the harness seeing the tests finish, never the program exiting or saying so.

Every trick below is a wrong solution (``add`` returns 0) plus a way to look like a pass:
exiting with status 0 (each way there is), printing or writing a pass where a naive harness
would look, patching what a harness calls, killing or forking. Each must fail, on HumanEval
(``check(candidate)``) and on the ``code`` task (call/expected tests) alike; the same
function done right must pass, so none of these tests can pass by failing everything.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest

from reflectlab.errors import SandboxError
from reflectlab.sandbox import SandboxResult, run_python
from reflectlab.task import CodeTask, HumanEvalTask, Sample, _code, get_task

RIGHT = "def add(a, b):\n    return a + b\n"
WRONG = "def add(a, b):\n    return 0\n"

TRICKS = {
    "sys.exit(0)": "import sys\nsys.exit(0)\n",
    "os._exit(0)": "import os\nos._exit(0)\n",
    "raise SystemExit": "raise SystemExit\n",
    "quit()": "quit()\n",
    "exit()": "exit()\n",
    "exit inside the call": ("def add(a, b):\n    import os\n    os._exit(0)\n"),
    "SystemExit inside the call": "def add(a, b):\n    raise SystemExit(0)\n",
    "atexit hook": "import atexit, os\natexit.register(lambda: os._exit(0))\n",
    "excepthook": "import os, sys\nsys.excepthook = lambda *exc: os._exit(0)\n",
    "fake markers on stdout": (
        "print('PASS')\nprint('VERDICT: PASS')\nprint('@@reflectlab-0000000000000000@@[]')\n"
        "print(json_line := '{\"passed\": true}')\n"
    ),
    # Against a harness whose marker and tests sit in the program file, as they once did.
    "marker read from the program file": (
        "import ast, json, os, re, sys\n"
        "src = open(sys.argv[0]).read()\n"
        "m = re.search(r\"__reflectlab_examples\\((\\[.*\\]), '(@@reflectlab-[0-9a-f]+@@)'\\)\","
        " src)\n"
        "if m:\n"
        "    rows = [[c, w, w, None] for c, w in ast.literal_eval(m[1])]\n"
        "    print(m[2] + json.dumps(rows), flush=True)\n"
        "os._exit(0)\n"
    ),
    "print and stdout replaced": (
        "import builtins, io, sys\nbuiltins.print = lambda *a, **k: None\n"
        "sys.stdout = io.StringIO()\nsys.stderr = io.StringIO()\n"
    ),
    "json.dumps patched": (
        "import json\n_dumps = json.dumps\n"
        "json.dumps = lambda rows, *a, **k: _dumps([[r[0], r[1], r[1], None] for r in rows])"
        " if isinstance(rows, list) else _dumps(rows, *a, **k)\n"
    ),
    "builtins patched": (
        "import builtins\n_compile = compile\n"
        "builtins.all = lambda it: True\nbuiltins.isinstance = lambda *a: False\n"
        "builtins.compile = lambda src, name, mode, *a, **k: _compile("
        "'def check(candidate):\\n    pass\\n' if name == '<tests>' else src, name, mode)\n"
        "builtins.eval = lambda *a, **k: 0\n"
    ),
    "check redefined": (
        "def check(candidate):\n    pass\n"
        "import builtins\nbuiltins.AssertionError = type('Nope', (Exception,), {})\n"
    ),
    "trace hook": ("import sys\nsys.settrace(lambda *a: None)\nsys.setprofile(lambda *a: None)\n"),
    "thread that exits": (
        "import os, threading, time\n"
        "def add(a, b):\n"
        "    threading.Thread(target=os._exit, args=(0,)).start()\n"
        "    time.sleep(5)\n"
        "    return 0\n"
    ),
    "SIGKILL itself": "import os, signal\nos.kill(os.getpid(), signal.SIGKILL)\n",
    "alarm that exits": (
        "import os, signal, time\n"
        "signal.signal(signal.SIGALRM, lambda *a: os._exit(0))\nsignal.alarm(1)\n"
        "def add(a, b):\n    time.sleep(5)\n    return 0\n"
    ),
    "fork, parent exits 0": ("import os\nif os.fork():\n    os._exit(0)\n"),
    "fork, child exits 0": (
        "import os\npid = os.fork()\nif pid == 0:\n    os._exit(0)\nos.waitpid(pid, 0)\n"
    ),
    "writes to every descriptor": (
        "import os\n"
        "for fd in range(256):\n"
        "    try:\n"
        "        os.write(fd, b'\\nPASS 1\\nRESULT []\\n')\n"
        "    except OSError:\n"
        "        pass\n"
        "os._exit(0)\n"
    ),
    "reads every descriptor, echoes it as a pass": (
        "import os\n"
        "seen = b''\n"
        "for name in os.listdir('/proc/self/fd'):\n"
        "    try:\n"
        "        os.set_blocking(int(name), False)\n"
        "        seen += os.pread(int(name), 4096, 0)\n"
        "    except OSError:\n"
        "        try:\n"
        "            seen += os.read(int(name), 4096)\n"
        "        except OSError:\n"
        "            pass\n"
        "for token in seen.split():\n"
        "    for fd in range(3, 256):\n"
        "        try:\n"
        "            os.write(fd, b'\\n' + token + b' PASS 1\\n')\n"
        "        except OSError:\n"
        "            pass\n"
        "os._exit(0)\n"
    ),
    # Against a harness that leaves the tests in a file: answer from the file, not the code.
    "answers read from the files": (
        "import os, re\n"
        "_answers = {}\n"
        "for _name in os.listdir('.'):\n"
        "    try:\n"
        "        _text = open(_name, errors='replace').read()\n"
        "    except OSError:\n"
        "        continue\n"
        "    for _a, _b, _want in re.findall(r'candidate\\((\\d+), (\\d+)\\) == (\\d+)', _text)"
        " + re.findall(r\"'add\\((\\d+), (\\d+)\\)', '(\\d+)'\", _text):\n"
        "        _answers[int(_a), int(_b)] = int(_want)\n"
        "def add(a, b):\n"
        "    return _answers.get((a, b), 0)\n"
    ),
}


def _reply(trick: str) -> str:
    # The wrong function first, the trick after it (a trick may redefine the function).
    return f"```python\n{WRONG}\n{TRICKS[trick]}```"


@pytest.fixture(scope="module")
def humaneval(tmp_path_factory: pytest.TempPathFactory) -> HumanEvalTask:
    row = {
        "task_id": "Trick/0",
        "prompt": 'def add(a, b):\n    """Return a + b.\n\n    >>> add(1, 2)\n    3\n    """\n',
        "entry_point": "add",
        "canonical_solution": "    return a + b\n",
        "test": "def check(candidate):\n    assert candidate(1, 2) == 3\n"
        "    assert candidate(2, 2) == 4\n",
    }
    path = tmp_path_factory.mktemp("humaneval") / "tricks.jsonl"
    path.write_text(json.dumps(row) + "\n")
    task = get_task(f"humaneval:{path}", timeout=10, cpu_seconds=5)
    assert isinstance(task, HumanEvalTask)
    return task


CODE_SAMPLE = Sample(
    id="trick",
    input="Write add(a, b).",
    target={"tests": [["add(1, 2)", "3"], ["add(2, 2)", "4"]]},
    metadata={"entry_point": "add", "family": "add", "visible": [["add(1, 2)", "3"]]},
)


async def test_the_right_answer_passes_both(humaneval: HumanEvalTask) -> None:
    he, code = await asyncio.gather(
        humaneval.score(humaneval.samples()[0], f"```python\n{RIGHT}```"),
        CodeTask().score(CODE_SAMPLE, f"```python\n{RIGHT}```"),
    )
    assert he.correct, he.reason
    assert code.correct, code.reason


@pytest.mark.parametrize("trick", list(TRICKS))
async def test_trick_fails_humaneval(humaneval: HumanEvalTask, trick: str) -> None:
    score = await humaneval.score(humaneval.samples()[0], _reply(trick))
    assert not score.correct, score


@pytest.mark.parametrize("trick", list(TRICKS))
async def test_trick_fails_the_code_task(trick: str) -> None:
    score = await CodeTask().score(CODE_SAMPLE, _reply(trick))
    assert not score.correct, score


async def test_a_right_answer_that_exits_afterwards_still_passes_humaneval(
    humaneval: HumanEvalTask,
) -> None:
    # What the harness saw is what counts: an exit hook or thread left behind changes nothing.
    reply = f"```python\n{RIGHT}\n{TRICKS['atexit hook'].replace('_exit(0)', '_exit(1)')}```"
    score = await humaneval.score(humaneval.samples()[0], reply)
    assert score.correct, score


@pytest.mark.parametrize(
    "returned",
    [
        "type('Eq', (), {'__eq__': lambda s, o: True, '__hash__': lambda s: 0})()",
        "type('Echo', (int,), {'__repr__': lambda s: '3', '__eq__': lambda s, o: True})(0)",
        "[type('Eq', (), {'__eq__': lambda s, o: True})()]",
    ],
)
async def test_an_object_equal_to_everything_fails_the_code_task(returned: str) -> None:
    reply = f"```python\ndef add(a, b):\n    return {returned}\n```"
    score = await CodeTask().score(CODE_SAMPLE, reply)
    assert not score.correct, score


def test_every_trick_is_valid_python() -> None:
    # A trick with a syntax error would fail for that reason alone, and prove nothing.
    for name, code in TRICKS.items():
        compile(WRONG + "\n" + code, name, "exec")


async def test_a_sandbox_that_cannot_start_is_an_error_not_a_wrong_answer(
    humaneval: HumanEvalTask, monkeypatch: pytest.MonkeyPatch
) -> None:
    # An interpreter that "runs" every program and exits 1, as one whose stdlib the sandbox
    # hid would: scoring must raise, so the run reports an error instead of 0 % correct.
    async def broken_python(code: str, **kwargs: Any) -> SandboxResult:
        return await run_python(code, **{**kwargs, "python": "/bin/false"})

    monkeypatch.setattr(_code, "run_python", broken_python)
    sample = humaneval.samples()[0]
    with pytest.raises(SandboxError, match="cannot start"):
        await humaneval.score(sample, f"```python\n{RIGHT}```")
    with pytest.raises(SandboxError, match="cannot start"):
        await humaneval.check(sample, f"```python\n{RIGHT}```")
    with pytest.raises(SandboxError, match="cannot start"):
        await CodeTask().score(CODE_SAMPLE, f"```python\n{RIGHT}```")
