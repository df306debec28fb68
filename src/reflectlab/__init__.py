"""reflectlab: make language models check and correct their own work, and measure whether it
helped.

Quick use::

    import reflectlab
    model = reflectlab.get_model("llamacpp/default")      # cached and logged in the store
    print(model.generate_sync("What is 2+3?").text)
"""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version
from typing import Any

from reflectlab.errors import ReflectlabError
from reflectlab.model import GenerateConfig, Model, ModelOutput
from reflectlab.model import get_model as _get_model
from reflectlab.store import Store

try:
    __version__ = version("reflectlab")
except PackageNotFoundError:  # running from a source tree that is not installed
    __version__ = "0+unknown"

__all__ = [
    "GenerateConfig",
    "Model",
    "ModelOutput",
    "ReflectlabError",
    "Store",
    "__version__",
    "get_model",
]


def get_model(
    name: str, *, store: Store | None = None, cache: bool = True, **options: Any
) -> Model:
    """A model whose calls are cached in and logged to ``store`` (default: the database under
    ``REFLECTLAB_HOME``). ``cache=False`` still logs every call but never reuses a reply."""
    store = store if store is not None else Store()
    return _get_model(name, cache=store if cache else None, recorder=store, **options)
