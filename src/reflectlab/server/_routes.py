"""The HTTP endpoints: chat completions, models, probes, metrics, OpenAPI."""

from __future__ import annotations

import asyncio
import json
import logging
import time
import uuid
from typing import Any

from aiohttp import web

from reflectlab.errors import ModelError
from reflectlab.model import CallEvent
from reflectlab.server._chat import ChatRequest, parse_request
from reflectlab.server._errors import ApiError, api_error_of, error_response
from reflectlab.server._limits import check_request, read_json
from reflectlab.server._openapi import openapi_document
from reflectlab.server._passthrough import passthrough
from reflectlab.server._reflect import build_completion, run_choices, save_traces
from reflectlab.server._selection import (
    HEADER,
    Selection,
    available_strategies,
    build_strategy,
    select,
)
from reflectlab.server._state import STATE, ServerState
from reflectlab.server._streaming import DONE, comment, completion_to_sse, event, open_stream
from reflectlab.strategy import StrategyFn

__all__ = ["add_routes"]

log = logging.getLogger("reflectlab.server")


def _json(data: Any, headers: dict[str, str] | None = None) -> web.Response:
    return web.Response(
        body=json.dumps(data, ensure_ascii=False).encode(),
        content_type="application/json",
        headers=headers,
    )


async def chat_completions(request: web.Request) -> web.StreamResponse:
    state = request.app[STATE]
    start = time.perf_counter()
    label, status = "unknown", 500
    try:
        raw = await read_json(request, state.config.limits)
        req = parse_request(raw)
        opts = req.reflectlab
        sel = select(
            req.model,
            opts.strategy if opts else None,
            opts.params if opts else {},
            request.headers.get(HEADER),
            state.default,
        )
        label = sel.label
        check_request(req, state.config.limits)
        cap = state.config.limits.max_tokens_per_call
        if cap is not None and req.token_limit is None:
            req = req.capped(cap)
            raw = {**raw, "max_tokens": cap}
        fn = None if sel.passthrough else build_strategy(sel, state.config.limits)
        with state.gate.enter():
            state.metrics.in_flight.inc((), 1)
            try:
                await state.wait_ready()
                if fn is None:
                    resp = await passthrough(request, state, raw, req, sel)
                else:
                    resp = await _reflect(request, state, req, sel, fn)
            finally:
                state.metrics.in_flight.inc((), -1)
        status = resp.status
        return resp
    except ApiError as exc:
        status = exc.status
        state.metrics.error(label, exc.kind)
        return error_response(exc)
    except ModelError as exc:
        err = api_error_of(exc, state.secrets)
        status = err.status
        state.metrics.error(label, err.kind)
        return error_response(err)
    except asyncio.CancelledError:
        status = 499  # nginx's "client closed request"
        state.metrics.error(label, "client_disconnected")
        raise
    finally:
        state.metrics.request(label, status, time.perf_counter() - start)


async def _reflect(
    request: web.Request, state: ServerState, req: ChatRequest, sel: Selection, fn: StrategyFn
) -> web.StreamResponse:
    trace_id = uuid.uuid4().hex[:20]
    completion_id = f"chatcmpl-{trace_id}"
    created = int(time.time())
    headers = {"X-Reflectlab-Trace-Id": trace_id}
    if not req.stream:
        outcomes = await run_choices(state, fn, sel, req, trace_id)
        await save_traces(state, sel, outcomes, req)
        data = build_completion(state, sel, outcomes, completion_id=completion_id, created=created)
        if state.upstream.price_known(sel.model):
            headers["X-Reflectlab-Cost-USD"] = f"{data['reflectlab']['cost_usd']:.8f}"
        return _json(data, headers)

    progress: asyncio.Queue[bytes] = asyncio.Queue()

    def on_call(e: CallEvent) -> None:
        status = "error" if e.error else "ok"
        progress.put_nowait(comment(f"reflectlab call role={e.role} round={e.round} {status}"))

    resp = await open_stream(request, headers)
    runner = asyncio.ensure_future(run_choices(state, fn, sel, req, trace_id, on_call))
    waiter: asyncio.Future[bytes] | None = None
    try:
        while not runner.done():
            waiter = asyncio.ensure_future(progress.get())
            done, _ = await asyncio.wait({runner, waiter}, return_when=asyncio.FIRST_COMPLETED)
            if waiter in done:
                await resp.write(waiter.result())
            else:
                waiter.cancel()
        outcomes = runner.result()
    except Exception:  # headers are out: the error goes in-band, as OpenAI's servers do
        log.exception("internal error while streaming %s", trace_id)
        state.metrics.error(sel.label, "internal_error")
        err = ApiError(500, "internal error in the proxy (logged)", type="server_error")
        await resp.write(event(err.body()) + DONE)
        await resp.write_eof()
        return resp
    finally:
        if waiter is not None and not waiter.done():
            waiter.cancel()
        if not runner.done():  # the client went away: stop every internal call
            runner.cancel()
    await save_traces(state, sel, outcomes, req)
    try:
        data = build_completion(state, sel, outcomes, completion_id=completion_id, created=created)
    except ApiError as exc:
        state.metrics.error(sel.label, exc.kind)
        await resp.write(event(exc.body()) + DONE)
        await resp.write_eof()
        return resp
    await resp.write(completion_to_sse(data, include_usage=req.include_usage))
    await resp.write_eof()
    return resp


async def list_models(request: web.Request) -> web.Response:
    state = request.app[STATE]
    try:
        await state.wait_ready()
        models = await state.upstream.list_models()
    except ModelError as exc:
        return error_response(api_error_of(exc, state.secrets))
    created = int(time.time())
    data = [
        {"id": m, "object": "model", "created": created, "owned_by": "upstream"} for m in models
    ]
    for s in available_strategies():
        if s == "direct":
            continue
        data += [
            {"id": f"{s}/{m}", "object": "model", "created": created, "owned_by": "reflectlab"}
            for m in models
        ]
    return _json({"object": "list", "data": data})


async def healthz(request: web.Request) -> web.Response:
    return _json({"status": "alive"})


async def readyz(request: web.Request) -> web.Response:
    state = request.app[STATE]
    ready = state.ready and state.upstream.ready
    body: dict[str, Any] = {
        "status": "ready" if ready else "starting",
        "upstream": state.upstream.spec if state.upstream.kind != "http" else "http",
        "run_id": state.traces.run_id,
        "in_flight": state.gate.in_flight,
    }
    if state.start_error:
        body["error"] = state.start_error
    return web.json_response(body, status=200 if ready else 503)


async def metrics(request: web.Request) -> web.Response:
    return web.Response(
        text=request.app[STATE].metrics.render(), content_type="text/plain", charset="utf-8"
    )


async def openapi(request: web.Request) -> web.Response:
    return _json(openapi_document())


def add_routes(app: web.Application) -> None:
    app.router.add_post("/v1/chat/completions", chat_completions)
    app.router.add_post("/chat/completions", chat_completions)
    app.router.add_get("/v1/models", list_models)
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/readyz", readyz)
    app.router.add_get("/metrics", metrics)
    app.router.add_get("/openapi.json", openapi)
