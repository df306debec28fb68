"""The trace viewer flags a reply cut by the token limit and a call whose usage is unknown."""

from __future__ import annotations

from importlib import resources

from reflectlab.model import MessagesInput, as_messages, call_tags, capture_calls, get_model
from reflectlab.model.providers.mock import MockReply
from reflectlab.report._steps import Chunk, _call_step


async def _steps(*replies: MockReply, prompt: MessagesInput = "q") -> list[dict[str, object]]:
    model = get_model("mock/m", outputs=list(replies))
    with call_tags(strategy="direct"), capture_calls() as events:
        for _ in replies:
            await model.generate(as_messages(prompt), max_tokens=4, use_cache=False)
    return [_call_step(e.model_dump(mode="json"), Chunk()) for e in events]


async def test_truncated_and_usage_unknown_calls_are_marked() -> None:
    cut, unknown, plain = await _steps(
        MockReply("Answer: 1", finish_reason="length"),
        MockReply("Answer: 2", usage=False),
        MockReply("Answer: 3"),
    )
    assert cut["trunc"] == 1 and "nu" not in cut
    assert unknown["nu"] is True and "trunc" not in unknown
    assert "trunc" not in plain and "nu" not in plain


def test_the_viewer_shows_the_badge() -> None:
    js = resources.files("reflectlab.report").joinpath("static/report.js").read_text()
    assert "truncated (finish_reason=length)" in js and "st.trunc" in js
    assert "tokens unknown" in js and "st.nu" in js
