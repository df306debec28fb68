"""The OpenAPI 3.1 document of the proxy (``GET /openapi.json``)."""

from __future__ import annotations

from typing import Any

__all__ = ["openapi_document"]

_ERROR = {
    "type": "object",
    "required": ["error"],
    "properties": {
        "error": {
            "type": "object",
            "required": ["message", "type"],
            "properties": {
                "message": {"type": "string"},
                "type": {"type": "string"},
                "param": {"type": ["string", "null"]},
                "code": {"type": ["string", "null"]},
            },
        }
    },
}

_MESSAGE = {
    "type": "object",
    "required": ["role", "content"],
    "properties": {
        "role": {"type": "string", "enum": ["system", "developer", "user", "assistant"]},
        "content": {"type": "string"},
    },
}

_REQUEST = {
    "type": "object",
    "required": ["model", "messages"],
    "properties": {
        "model": {
            "type": "string",
            "minLength": 1,
            "description": "Upstream model, optionally prefixed by a strategy: "
            "'self_refine/<model>', 'self_refine:max_rounds=2/<model>'.",
        },
        "messages": {"type": "array", "minItems": 1, "items": _MESSAGE},
        "stream": {"type": "boolean"},
        "stream_options": {
            "type": "object",
            "properties": {"include_usage": {"type": "boolean"}},
        },
        "n": {"type": "integer", "minimum": 1},
        "temperature": {"type": "number", "minimum": 0, "maximum": 2},
        "top_p": {"type": "number", "exclusiveMinimum": 0, "maximum": 1},
        "max_tokens": {"type": "integer", "minimum": 1},
        "max_completion_tokens": {"type": "integer", "minimum": 1},
        "seed": {"type": "integer"},
        "stop": {"oneOf": [{"type": "string"}, {"type": "array", "items": {"type": "string"}}]},
        "reflectlab": {
            "type": "object",
            "description": "Strategy selection (the openai client's extra_body).",
            "properties": {
                "strategy": {"type": "string"},
                "params": {"type": "object"},
            },
            "additionalProperties": False,
        },
    },
}

_COMPLETION = {
    "type": "object",
    "required": ["id", "object", "created", "model", "choices", "usage"],
    "properties": {
        "id": {"type": "string"},
        "object": {"type": "string"},
        "created": {"type": "integer"},
        "model": {"type": "string"},
        "choices": {"type": "array"},
        "usage": {"type": "object"},
        "reflectlab": {"type": "object"},
    },
}


def _errors(*codes: int) -> dict[str, Any]:
    return {
        str(c): {
            "description": "error",
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
        }
        for c in codes
    }


def openapi_document() -> dict[str, Any]:
    from reflectlab import __version__

    bearer: list[dict[str, list[str]]] = [{"bearer": []}]
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "reflectlab serve",
            "version": __version__,
            "description": "OpenAI-compatible proxy that runs a reflection strategy per request.",
        },
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
            "schemas": {
                "Error": _ERROR,
                "ChatCompletionRequest": _REQUEST,
                "ChatCompletion": _COMPLETION,
            },
        },
        "paths": {
            "/v1/chat/completions": {
                "post": {
                    "operationId": "createChatCompletion",
                    "security": bearer,
                    "parameters": [
                        {
                            "name": "X-Reflectlab-Strategy",
                            "in": "header",
                            "required": False,
                            "schema": {"type": "string"},
                        }
                    ],
                    "requestBody": {
                        "required": True,
                        "content": {
                            "application/json": {
                                "schema": {"$ref": "#/components/schemas/ChatCompletionRequest"}
                            }
                        },
                    },
                    "responses": {
                        "200": {
                            "description": "a chat.completion, or SSE chunks when stream=true",
                            "content": {
                                "application/json": {
                                    "schema": {"$ref": "#/components/schemas/ChatCompletion"}
                                },
                                "text/event-stream": {"schema": {"type": "string"}},
                            },
                        },
                        **_errors(400, 401, 404, 413, 429, 502, 504),
                    },
                }
            },
            "/v1/models": {
                "get": {
                    "operationId": "listModels",
                    "security": bearer,
                    "responses": {
                        "200": {
                            "description": "upstream models, plain and with each strategy",
                            "content": {"application/json": {"schema": {"type": "object"}}},
                        },
                        **_errors(401, 502),
                    },
                }
            },
            "/healthz": {
                "get": {
                    "operationId": "liveness",
                    "responses": {"200": {"description": "the process is serving"}},
                }
            },
            "/readyz": {
                "get": {
                    "operationId": "readiness",
                    "responses": {
                        "200": {"description": "ready for requests"},
                        "503": {"description": "still starting (e.g. loading the model)"},
                    },
                }
            },
            "/metrics": {
                "get": {
                    "operationId": "metrics",
                    "security": bearer,
                    "responses": {
                        "200": {
                            "description": "Prometheus text format",
                            "content": {"text/plain": {"schema": {"type": "string"}}},
                        },
                        **_errors(401),
                    },
                }
            },
        },
    }
