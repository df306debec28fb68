"""The pointwise protocol against the embedded llama.cpp model (SmolLM2-135M), for real.

A 135M model is an unreliable judge: only the protocol's contract is checked (every verdict is
a rating on the scale or counted as unparseable with a reason), never what it rated.
"""

from __future__ import annotations

import pytest

from reflectlab.errors import ConfigError, ModelNotFoundError
from reflectlab.judge import PointwiseJudge
from reflectlab.model import capture_calls, get_model

pytestmark = pytest.mark.integration


async def test_pointwise_on_the_embedded_model_is_parsed_or_counted() -> None:
    try:
        model = get_model("llamacpp/default")
    except (ConfigError, ModelNotFoundError) as exc:
        pytest.skip(f"llamacpp/default cannot load: {exc}")
    judge = PointwiseJudge(model, max_tokens=48)
    items = [("What is 2+3?", "2+3 = 5."), ("Name a colour.", "Blue.")]
    try:
        with capture_calls() as events:
            results = [await judge.judge(q, r) for q, r in items]
    except ModelNotFoundError as exc:  # weights missing or altered: found on first use
        pytest.skip(f"llamacpp/default cannot load: {exc}")
    finally:
        await model.aclose()
    assert len(events) == 2 and all(e.role == "judge" and e.error is None for e in events)
    assert all(e.config.max_tokens == 48 for e in events)
    for result in results:
        assert result.reasoning == events[results.index(result)].choices[0]
        if result.score is None:
            assert result.parse_error
        else:
            assert 1 <= result.score <= 10 and result.parse_error is None
