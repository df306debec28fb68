"""Without its extra, an adapter fails on import with the install line, and nothing else in
reflectlab imports the adapters (so a missing extra never breaks the library)."""

from __future__ import annotations

import importlib
import subprocess
import sys

import pytest


@pytest.mark.parametrize(
    ("module", "vendor", "extra"),
    [("inspect", "inspect_ai.model", "inspect"), ("dspy", "dspy", "dspy")],
)
def test_a_missing_extra_names_its_install_line(
    monkeypatch: pytest.MonkeyPatch, module: str, vendor: str, extra: str
) -> None:
    monkeypatch.setitem(sys.modules, vendor, None)  # None in sys.modules: import fails
    monkeypatch.delitem(sys.modules, f"reflectlab.integrations.{module}", raising=False)
    with pytest.raises(ImportError, match=rf"pip install 'reflectlab\[{extra}\]'"):
        importlib.import_module(f"reflectlab.integrations.{module}")


def test_the_library_and_cli_never_import_the_adapters() -> None:
    code = (
        "import sys, reflectlab, reflectlab.cli, reflectlab.server; "
        "print(sorted(m for m in sys.modules if m.startswith(('reflectlab.integrations', "
        "'inspect_ai', 'dspy'))))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
