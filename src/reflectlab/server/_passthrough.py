"""``direct``: the request goes upstream unchanged (tools, ``response_format``, ``logprobs``,
``n``, any field) and the upstream's answer comes back unchanged, plus the ``reflectlab``
field; a stream is relayed chunk by chunk as it arrives.

Servers that reject ``n > 1`` (llama.cpp server) are detected on the first 400 that names
``n``; from then on such a request is served as ``n`` concurrent requests with ``n = 1`` whose
choices are merged (and streamed as SSE when the client asked for a stream). The call is
logged in the store like any model-layer call, so it shows in the trace viewer.
"""

from __future__ import annotations

import asyncio
import json
import re
import time
import uuid
from typing import Any

import aiohttp
from aiohttp import web

from reflectlab.errors import ProviderUnavailableError
from reflectlab.model import CallEvent, ChatMessage, GenerateConfig, Usage
from reflectlab.server._chat import ChatRequest
from reflectlab.server._errors import ApiError, api_error_of, scrub
from reflectlab.server._selection import Selection
from reflectlab.server._state import ServerState
from reflectlab.server._streaming import (
    DONE,
    completion_to_sse,
    event,
    open_stream,
    read_sse_completion,
)
from reflectlab.strategy import Checkpoint, StrategyResult

__all__ = ["passthrough"]

_N_REJECTED = re.compile(r"(\bn\b|'n'|\"n\"|only n ?= ?1|number of choices)", re.I)
_PATH = "/chat/completions"
#: The label of passed-through requests in the store. Not "direct": the analysis pairs every
#: strategy with a "direct" baseline on shared sample ids, and chat requests share none.
PASSTHROUGH_LABEL = "passthrough"


def _upstream_error(
    state: ServerState, status: int, raw: bytes, retry_after: str | None
) -> ApiError:
    """An upstream's non-200 answer, as the client should see it (OpenAI-style, scrubbed)."""
    message = ""
    try:
        err = json.loads(raw).get("error")
        message = err.get("message", "") if isinstance(err, dict) else str(err or "")
    except (ValueError, AttributeError):
        pass
    message = scrub(message or raw[:300].decode("utf-8", "replace"), state.secrets)
    message = message or f"HTTP {status}"
    if status == 429:
        try:
            wait = max(1, round(float(retry_after or 1)))
        except ValueError:
            wait = 1
        return ApiError(
            429,
            f"upstream rate limit: {message}",
            type="rate_limit_error",
            code="upstream_rate_limited",
            headers={"Retry-After": str(wait)},
        )
    if status in (401, 403):
        return ApiError(
            502,
            "the upstream rejected the proxy's credentials (check --api-key-env)",
            type="upstream_error",
            code="upstream_authentication_failed",
        )
    if 400 <= status < 500 and status != 408:
        return ApiError(status, message, code="upstream_bad_request")
    return ApiError(502, f"upstream error {status}: {message}", type="upstream_error")


def _complete(data: dict[str, Any]) -> None:
    """Fill in the fields of a chat.completion that some servers leave out."""
    data.setdefault("object", "chat.completion")
    if not isinstance(data.get("created"), int):
        data["created"] = int(time.time())
    data.setdefault("id", f"chatcmpl-{uuid.uuid4().hex[:20]}")


def _count(value: Any) -> int:
    """A token count from an upstream body, 0 when absent or not a count (only traced)."""
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else 0


def _rejects_n(status: int, raw: bytes) -> bool:
    return status == 400 and bool(_N_REJECTED.search(raw[:2000].decode("utf-8", "replace")))


def _merge(parts: list[dict[str, Any]]) -> dict[str, Any]:
    """Choices of n separate completions as one, indexed 0..n-1, usage summed."""
    merged = dict(parts[0])
    choices: list[dict[str, Any]] = []
    prompt = completion = cached = 0
    for part in parts:
        for c in part.get("choices") or []:
            choices.append({**c, "index": len(choices)})
        usage = part.get("usage") or {}
        prompt += int(usage.get("prompt_tokens") or 0)
        completion += int(usage.get("completion_tokens") or 0)
        cached += int((usage.get("prompt_tokens_details") or {}).get("cached_tokens") or 0)
    merged["choices"] = choices
    merged["usage"] = {
        "prompt_tokens": prompt,
        "completion_tokens": completion,
        "total_tokens": prompt + completion,
        "prompt_tokens_details": {"cached_tokens": cached},
    }
    return merged


def _trace_messages(raw_messages: Any) -> list[ChatMessage]:
    """The request's messages as text, for the trace (tool turns and non-text parts are
    labelled; the upstream got them unchanged)."""
    out = []
    for m in raw_messages if isinstance(raw_messages, list) else []:
        role = m.get("role") if isinstance(m, dict) else None
        content = m.get("content") if isinstance(m, dict) else None
        if isinstance(content, list):
            content = "".join(
                p.get("text", "") if p.get("type") == "text" else f"[{p.get('type')}]"
                for p in content
                if isinstance(p, dict)
            )
        text = content if isinstance(content, str) else ""
        if isinstance(m, dict) and m.get("tool_calls"):
            text += "\n[tool_calls] " + json.dumps(m["tool_calls"])[:2000]
        if role in ("system", "developer"):
            out.append(ChatMessage(role="system", content=text))
        elif role == "assistant":
            out.append(ChatMessage(role="assistant", content=text))
        else:
            prefix = "" if role == "user" else f"[{role}] "
            out.append(ChatMessage(role="user", content=prefix + text))
    return out


class _Passthrough:
    def __init__(
        self, state: ServerState, raw: dict[str, Any], req: ChatRequest, sel: Selection
    ) -> None:
        self.state = state
        self.req = req
        self.sel = sel
        self.upstream_model = state.upstream.model_name(sel.model)
        body = {k: v for k, v in raw.items() if k != "reflectlab"}
        body["model"] = self.upstream_model
        self.body = body
        self.trace_id = uuid.uuid4().hex[:20]
        self.start = time.perf_counter()
        self.started_at = time.time()

    def _ext(self, calls: int) -> dict[str, Any]:
        return {
            "strategy": "direct",
            "selected_by": self.sel.source,
            "trace_id": self.trace_id,
            "run_id": self.state.traces.run_id,
            "calls": calls,
            "rounds": 0,
            "stop_reason": "completed",
        }

    def _headers(self) -> dict[str, str]:
        return {"X-Reflectlab-Trace-Id": self.trace_id}

    async def run(self, request: web.Request) -> web.StreamResponse:
        try:
            return await self._run(request)
        except ApiError as exc:
            await self._record_failure(exc)
            raise

    async def _run(self, request: web.Request) -> web.StreamResponse:
        n = self.req.n
        key = self.sel.model
        if n > 1 and self.state.upstream.supports_n.get(key) is False:
            return await self._looped(request)
        if self.req.stream:
            return await self._stream(request)
        status, raw, headers = await self.state.upstream.post(_PATH, json.dumps(self.body).encode())
        if status != 200:
            if n > 1 and _rejects_n(status, raw):
                self.state.upstream.supports_n[key] = False
                return await self._looped(request)
            raise _upstream_error(self.state, status, raw, headers.get("Retry-After"))
        try:
            data = json.loads(raw)
            _complete(data)
            data["reflectlab"] = self._ext(1)
        except (ValueError, TypeError, AttributeError) as exc:
            raise api_error_of(ProviderUnavailableError("upstream sent malformed JSON")) from exc
        cost = await self._record(data, calls=1)
        out_headers = self._headers()
        if self.state.upstream.price_known(self.sel.model):
            out_headers["X-Reflectlab-Cost-USD"] = f"{cost:.8f}"
        return web.Response(
            body=json.dumps(data).encode(), content_type="application/json", headers=out_headers
        )

    async def _stream(self, request: web.Request) -> web.StreamResponse:
        upstream = await self.state.upstream.open_stream(_PATH, json.dumps(self.body).encode())
        try:
            if upstream.status != 200:
                raw = await upstream.read()
                if self.req.n > 1 and _rejects_n(upstream.status, raw):
                    self.state.upstream.supports_n[self.sel.model] = False
                    return await self._looped(request)
                raise _upstream_error(
                    self.state, upstream.status, raw, upstream.headers.get("Retry-After")
                )
            if not upstream.headers.get("Content-Type", "").startswith("text/event-stream"):
                # A server that ignored stream=true: relay its completion as SSE.
                try:
                    data = json.loads(await upstream.read())
                    _complete(data)
                    data["reflectlab"] = self._ext(1)
                except (ValueError, TypeError, AttributeError) as exc:
                    raise api_error_of(
                        ProviderUnavailableError("upstream sent malformed JSON")
                    ) from exc
                await self._record(data, calls=1)
                out = await open_stream(request, self._headers())
                await out.write(completion_to_sse(data, include_usage=self.req.include_usage))
                await out.write_eof()
                return out
            out = await open_stream(request, self._headers())
            buf = bytearray()
            try:
                async for chunk in upstream.content.iter_any():
                    buf += chunk
                    await out.write(chunk)
            except (aiohttp.ClientError, TimeoutError) as exc:
                # The upstream broke off mid-stream: say so in-band (headers are out).
                err = ApiError(
                    502, f"upstream stream broke off ({type(exc).__name__})", type="upstream_error"
                )
                await out.write(event(err.body()) + DONE)
            await out.write_eof()
        finally:
            upstream.release()
        texts, finish, usage = read_sse_completion(bytes(buf))
        await self._record(
            {
                "choices": [
                    {"index": i, "message": {"content": t}, "finish_reason": finish.get(i)}
                    for i, t in sorted(texts.items())
                ],
                "usage": usage or {},
            },
            calls=1,
        )
        return out

    async def _looped(self, request: web.Request) -> web.StreamResponse:
        single = {**self.body, "n": 1, "stream": False}
        single.pop("stream_options", None)
        payload = json.dumps(single).encode()
        answers = await asyncio.gather(
            *(self.state.upstream.post(_PATH, payload) for _ in range(self.req.n))
        )
        parts = []
        for status, raw, headers in answers:
            if status != 200:
                raise _upstream_error(self.state, status, raw, headers.get("Retry-After"))
            try:
                part = json.loads(raw)
                if not isinstance(part, dict) or not isinstance(part.get("choices"), list):
                    raise ValueError("not a completion")
                parts.append(part)
            except ValueError as exc:
                raise api_error_of(
                    ProviderUnavailableError("upstream sent malformed JSON")
                ) from exc
        data = _merge(parts)
        _complete(data)
        data["reflectlab"] = {**self._ext(len(parts)), "n_looped": True}
        await self._record(data, calls=len(parts))
        if self.req.stream:
            out = await open_stream(request, self._headers())
            await out.write(completion_to_sse(data, include_usage=self.req.include_usage))
            await out.write_eof()
            return out
        return web.Response(
            body=json.dumps(data).encode(), content_type="application/json", headers=self._headers()
        )

    def _event(self, texts: list[str], usage: Usage, calls: int) -> CallEvent:
        state, req = self.state, self.req
        model = state.upstream.model(self.sel.model)
        return CallEvent(
            call_id=uuid.uuid4().hex,
            model=model.name,
            base_url=model.api.base_url,
            role="direct",
            round=0,
            request_hash="",
            messages=_trace_messages(self.body.get("messages")),
            config=GenerateConfig(
                temperature=req.temperature,
                max_tokens=req.token_limit,
                top_p=req.top_p,
                seed=req.seed,
                stop=req.stop_tuple,
                n=min(req.n, 128),
            ),
            choices=texts,
            usage=usage,
            attempts=calls,
            started_at=self.started_at,
            latency_s=time.perf_counter() - self.start,
            tags={
                "run_id": state.traces.run_id,
                "sample_id": self.trace_id,
                "strategy": PASSTHROUGH_LABEL,
            },
        )

    async def _record_failure(self, exc: ApiError) -> None:
        """A failed passthrough is traced too: the call with its error, a result without one."""
        event = self._event([], Usage(), 1)
        event.error, event.error_type = exc.message, exc.code or exc.type
        await self.state.traces.record_call(event)
        await self.state.traces.save(
            trace_id=self.trace_id,
            strategy=PASSTHROUGH_LABEL,
            result=StrategyResult(
                final_response=None,
                checkpoints=[],
                stop_reason="upstream_error",
                error=f"HTTP {exc.status}: {exc.message}",
            ),
            events=[event],
            wall_s=event.latency_s,
            detail={"model": self.sel.model, "selected_by": self.sel.source, "passthrough": True},
        )

    async def _record(self, data: dict[str, Any], *, calls: int) -> float:
        """The call in the store and metrics (not through Model.generate: logged here);
        returns its cost in USD."""
        state = self.state
        choices = data.get("choices")
        texts = [
            str(((c.get("message") or {}).get("content")) or "") if isinstance(c, dict) else ""
            for c in (choices if isinstance(choices, list) else [])
        ]
        reported = data.get("usage")
        usage_raw: dict[str, Any] = reported if isinstance(reported, dict) else {}
        details = usage_raw.get("prompt_tokens_details")
        usage = Usage(
            prompt_tokens=_count(usage_raw.get("prompt_tokens")),
            completion_tokens=_count(usage_raw.get("completion_tokens")),
            cached_tokens=_count(details.get("cached_tokens") if isinstance(details, dict) else 0),
        )
        model = state.upstream.model(self.sel.model)
        usage.cost_usd = 0.0 if state.upstream.local else model.prices.cost(model.name, usage)
        event = self._event(texts, usage, calls)
        await state.traces.record_call(event)
        state.metrics.call("direct", event)
        first = texts[0] if texts else ""
        await state.traces.save(
            trace_id=self.trace_id,
            strategy=PASSTHROUGH_LABEL,
            result=StrategyResult(
                final_response=first,
                checkpoints=[
                    Checkpoint(round=0, response=first, calls=calls, tokens=usage.total_tokens)
                ],
                stop_reason="completed",
                calls=calls,
                tokens=usage.total_tokens,
            ),
            events=[event],
            wall_s=event.latency_s,
            detail={"model": self.sel.model, "selected_by": self.sel.source, "passthrough": True},
        )
        return usage.cost_usd


async def passthrough(
    request: web.Request, state: ServerState, raw: dict[str, Any], req: ChatRequest, sel: Selection
) -> web.StreamResponse:
    return await _Passthrough(state, raw, req, sel).run(request)
