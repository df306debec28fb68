"""The cache key must stay the key every existing cache was written with.

:func:`request_hash` is built in pieces for speed; the reference here is the format as first
released (``json.dumps`` of the payload with sorted keys, no spaces, ``ensure_ascii=False``).
If the two ever differ, every cached reply a user paid for silently stops being served.
"""

from __future__ import annotations

import hashlib
import json
import random

import pytest

from reflectlab.model import ChatMessage, GenerateConfig, request_hash
from reflectlab.model._cache import canonical_request


def reference(
    model: str, base_url: str | None, msgs: list[ChatMessage], cfg: GenerateConfig, index: int
) -> str:
    payload = {
        "model": model,
        "base_url": base_url,
        "messages": [[m.role, m.content] for m in msgs],
        "config": cfg.model_dump(exclude_none=True),
        "sample_index": index,
    }
    text = json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


CONFIGS = [
    GenerateConfig(),
    GenerateConfig(temperature=0.0, max_tokens=400),
    GenerateConfig(temperature=1e-05, top_p=0.95, seed=7),  # floats json and orjson spell apart
    GenerateConfig(temperature=1e-7, stop=("\n\n", "Q:", '"'), n=3),
    GenerateConfig(temperature=2.0, max_tokens=1, top_p=1e-9, seed=-(2**40)),
]


def test_every_code_point_hashes_as_the_reference() -> None:
    # All of Unicode except lone surrogates (which neither serialiser writes as UTF-8), in
    # chunks, as message content, model name and base URL.
    points = [chr(c) for c in range(0x110000) if not 0xD800 <= c < 0xE000]
    for start in range(0, len(points), 4096):
        chunk = "".join(points[start : start + 4096])
        msgs = [ChatMessage(role="user", content=chunk), ChatMessage(role="assistant", content="")]
        for cfg in CONFIGS[:2]:
            assert request_hash("m", None, msgs, cfg, 0) == reference("m", None, msgs, cfg, 0)
        assert request_hash(chunk[:50], chunk[50:90], msgs, CONFIGS[2], 3) == reference(
            chunk[:50], chunk[50:90], msgs, CONFIGS[2], 3
        )


def test_random_conversations_hash_as_the_reference() -> None:
    rng = random.Random(12)
    alphabet = 'ab "\\\n\t\r\x00\x1f\x7f\u2028\u2029é漢字🙂\ufeff{}[],:'
    for i in range(500):
        msgs = [
            ChatMessage(
                role=rng.choice(["system", "user", "assistant"]),
                content="".join(rng.choice(alphabet) for _ in range(rng.randint(0, 80))),
            )
            for _ in range(rng.randint(1, 6))
        ]
        cfg = CONFIGS[i % len(CONFIGS)]
        base = rng.choice([None, "http://127.0.0.1:8000/v1", 'https://x.example/v1?a="b"'])
        index = rng.choice([0, 1, 17, 2**31, 2**70, True])  # as json spells each
        assert request_hash("openai/m", base, msgs, cfg, index) == reference(
            "openai/m", base, msgs, cfg, index
        )


def test_a_lone_surrogate_fails_as_before() -> None:
    msgs = [ChatMessage(role="user", content="a\ud800b")]
    with pytest.raises(UnicodeEncodeError):
        reference("m", None, msgs, GenerateConfig(), 0)
    with pytest.raises(UnicodeEncodeError):
        canonical_request("m", None, msgs, GenerateConfig(), 0)


def test_a_known_key_is_unchanged() -> None:
    # A key computed by reflectlab 0.1 for this request: a cache written then is still served.
    msgs = [ChatMessage(role="user", content="What is 2+2?")]
    cfg = GenerateConfig(temperature=0.7, max_tokens=5)
    key = "ea0120e5f1dd29e071d785b323b6ea23f1b84457fd68a14b4158c351bd7a92a4"
    assert (
        request_hash("mock/a", None, msgs, cfg, 0) == key == reference("mock/a", None, msgs, cfg, 0)
    )


def test_configs_that_compare_equal_but_spell_apart_keep_their_own_keys() -> None:
    # 0.0 == -0.0, but json.dumps spells them apart, so their keys always differed: the key
    # of one must not depend on whether the other was hashed first (no memo by equality).
    msgs = [ChatMessage(role="user", content="q")]
    zero, negative = GenerateConfig(temperature=0.0), GenerateConfig(temperature=-0.0)
    assert zero == negative
    for first, second in ((zero, negative), (negative, zero)):
        assert request_hash("m", None, msgs, first, 0) == reference("m", None, msgs, first, 0)
        assert request_hash("m", None, msgs, second, 0) == reference("m", None, msgs, second, 0)
