"""Which strategy a request gets, and the checks made before any model call."""

from __future__ import annotations

import pytest

from reflectlab.model import ChatMessage
from reflectlab.run import StrategySpec
from reflectlab.server import Limits
from reflectlab.server._chat import parse_request, render_conversation
from reflectlab.server._errors import ApiError
from reflectlab.server._selection import build_strategy, select

DEFAULT = StrategySpec(name="direct")


def test_precedence_body_then_prefix_then_header_then_default() -> None:
    s = select("self_refine:max_rounds=2/m", "reflexion", {}, "retry", DEFAULT)
    assert (s.strategy, s.model, s.source) == ("reflexion", "m", "body")
    s = select("self_refine:max_rounds=2/m", None, {}, "retry", DEFAULT)
    assert (s.strategy, s.params, s.source) == ("self_refine", {"max_rounds": 2}, "model")
    s = select("m", None, {}, "retry:max_rounds=1", DEFAULT)
    assert (s.strategy, s.params, s.source) == ("retry", {"max_rounds": 1}, "header")
    s = select("m", None, {}, None, StrategySpec(name="self_refine"))
    assert (s.strategy, s.source) == ("self_refine", "default")
    # body params alone refine whatever else chose the strategy
    s = select("self_refine:max_rounds=2/m", None, {"max_rounds": 1}, None, DEFAULT)
    assert (s.strategy, s.params) == ("self_refine", {"max_rounds": 1})


def test_upstream_names_with_slashes_are_not_strategies() -> None:
    s = select("meta-llama/Llama-3.1-8B-Instruct", None, {}, None, DEFAULT)
    assert (s.strategy, s.model) == ("direct", "meta-llama/Llama-3.1-8B-Instruct")
    s = select("self_refine/meta-llama/Llama-3.1-8B-Instruct", None, {}, None, DEFAULT)
    assert (s.strategy, s.model) == ("self_refine", "meta-llama/Llama-3.1-8B-Instruct")


@pytest.mark.parametrize(
    ("name", "params", "code"),
    [
        ("nope", {}, "unknown_strategy"),
        ("dual_model", {}, "unsupported_strategy"),
        ("self_refine", {"feedback": "oracle"}, "oracle_unavailable"),
        ("self_refine", {"feedback": "critic"}, "unsupported_strategy"),
        ("self_refine", {"max_rounds": True}, "invalid_strategy_parameter"),
        ("self_refine", {"rounds": 2}, "invalid_strategy_parameter"),
        ("self_refine", {"max_rounds": 6}, "over_limit"),
        ("rot", {}, "unsupported_strategy"),  # learns offline: no training split in a chat
    ],
)
def test_refused_before_any_call(name: str, params: dict[str, object], code: str) -> None:
    sel = select("m", name, params, None, DEFAULT)
    with pytest.raises(ApiError) as err:
        build_strategy(sel, Limits(max_rounds=5))
    assert err.value.status == 400 and err.value.code == code


def test_rot_with_given_guidelines_is_served() -> None:
    sel = select("m", "rot", {"guidelines": "Check each step."}, None, DEFAULT)
    assert callable(build_strategy(sel, Limits(max_rounds=5)))


def test_a_single_user_turn_is_passed_verbatim_and_history_is_labelled() -> None:
    assert render_conversation([ChatMessage(role="user", content="hi")]) == "hi"
    text = render_conversation(
        [
            ChatMessage(role="system", content="Be brief."),
            ChatMessage(role="user", content="a"),
            ChatMessage(role="assistant", content="b"),
            ChatMessage(role="user", content="c"),
        ]
    )
    assert text == (
        "[Instructions]\nBe brief.\n\n[Conversation so far]\nUser: a\n\nAssistant: b"
        "\n\n[Current message]\nc"
    )


def test_request_parsing_keeps_unknown_fields_and_rejects_bad_ones() -> None:
    req = parse_request({"model": "m", "messages": [{"role": "user", "content": "x"}], "x": 1})
    assert req.model_extra == {"x": 1}
    with pytest.raises(ApiError) as err:
        parse_request({"model": "m", "messages": [], "n": 1})
    assert err.value.param == "messages"
