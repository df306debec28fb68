"""Adapters that run reflectlab strategies inside other frameworks (optional extras).

- :mod:`reflectlab.integrations.inspect`: a strategy as an Inspect AI solver
  (``pip install 'reflectlab[inspect]'``);
- :mod:`reflectlab.integrations.dspy`: a strategy as a DSPy module
  (``pip install 'reflectlab[dspy]'``).

In both, the strategy still calls ``ctx.generate``: a reflectlab provider wraps the host
framework's model for the duration of the call, so every model call goes through the host
(and is logged, cached and counted there) as well as through :class:`reflectlab.model.Model`.
This package sits on top of the library (strategy, model, task); nothing in reflectlab imports
it, and the vendor packages are imported only when an adapter module is.
"""

__all__: list[str] = []
