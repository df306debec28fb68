"""Typed, ranged parameter kinds for strategy factories.

A factory's signature is its parameter schema: the registry validates every parameter against
the annotation (type and range) before any model call, so ``max_rounds=abc``, ``n=-3``,
``n=2.5`` or ``max_rounds=1e9`` are one clear error naming the strategy and the parameter.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

#: Rounds of critique/refinement (0 = the draft alone).
Rounds = Annotated[int, Field(ge=0, le=50)]
#: A number of samples, candidates, agents or perspectives.
Count = Annotated[int, Field(ge=1, le=128)]
#: A sampling temperature.
Temperature = Annotated[float, Field(ge=0.0, le=2.0)]
#: A time limit for sandboxed code, in seconds.
Seconds = Annotated[float, Field(gt=0.0, le=600.0)]
#: A small non-negative count (patience, memory size, ...).
Small = Annotated[int, Field(ge=0, le=100)]
