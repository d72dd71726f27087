"""The error answers of the OpenAPI schema: every status an operation can give, with its shape.

drf-spectacular describes the answers a view declares (200, 201 ...). The errors come from
the plumbing every view shares, so they are added here, once, after generation
(SPECTACULAR_SETTINGS["POSTPROCESSING_HOOKS"]):

* 400 on every operation: a query parameter with a control character is refused before any
  view runs (core.input_guard), and a bad body or filter is a validation error;
* 401 without a valid token, 403 without the permission or scope, on every operation;
* 404 on every operation: an object named in the path or the body that does not exist or
  is outside the caller's scope, or a page past the end of a list;
* on operations with a body: 409 (an `Idempotency-Key` reused with another body, or a
  state that forbids the action), 413 (a body larger than the API takes), 415 (a body
  that is not JSON, or multipart where a file is taken);
* 429 when the API throttles (REST_FRAMEWORK's throttle classes).

An answer the view already declares keeps its own description.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings

ERROR_DETAIL = "ErrorDetail"
VALIDATION_ERRORS = "ValidationErrors"

COMPONENTS: dict[str, dict[str, Any]] = {
    ERROR_DETAIL: {
        "type": "object",
        "description": "An error told in one sentence.",
        "properties": {
            "detail": {"type": "string"},
            "code": {"type": "string"},
        },
        "required": ["detail"],
    },
    VALIDATION_ERRORS: {
        "type": "object",
        "description": (
            "What was wrong, by field: `{field: [messages]}`; a nested field or a list's "
            "item is named by its path (`lines[2].sku`) or nests the same shape. "
            "`non_field_errors` holds what concerns no one field."
        ),
        "properties": {
            "errors": {
                "type": "object",
                "additionalProperties": {
                    "oneOf": [{"type": "array", "items": {}}, {"type": "object"}]
                },
            },
            "code": {"type": "string"},
            "rows": {
                "type": "array",
                "description": "Stock counts: every bad row, as data.",
                "items": {"type": "object"},
            },
        },
        "required": ["errors"],
    },
}

_DESCRIPTIONS = {
    "400": "Bad input: the fields at fault, or a body that could not be read.",
    "401": "No valid token (`Authorization: Token <key>`).",
    "403": "The token's user lacks the permission, or its scope forbids the action.",
    "404": "No such object (or not within the caller's scope), or no such page.",
    "409": "Conflict: the object's state forbids it, or an Idempotency-Key was reused "
    "with another body.",
    "413": "The body is larger than the API takes.",
    "415": "The body's media type is not one the operation reads.",
    "429": "Too many requests: wait and retry (Retry-After).",
}
_BODY_METHODS = {"post", "put", "patch"}


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _shape(code: str) -> dict[str, Any]:
    if code in ("400", "409"):
        return {"oneOf": [_ref(VALIDATION_ERRORS), _ref(ERROR_DETAIL)]}
    return _ref(ERROR_DETAIL)


def _throttled() -> bool:
    api = getattr(settings, "REST_FRAMEWORK", {})
    return bool(api.get("DEFAULT_THROTTLE_CLASSES"))


def error_responses(result: dict[str, Any], generator: Any, **kwargs: Any) -> dict[str, Any]:
    """Add the shared error answers to every operation of the API (a drf-spectacular
    post-processing hook)."""
    schemas = result.setdefault("components", {}).setdefault("schemas", {})
    schemas.update(COMPONENTS)
    throttled = _throttled()
    for path, operations in result.get("paths", {}).items():
        if not path.startswith("/api/v1/"):
            continue
        for method, operation in operations.items():
            if method not in {"get", "post", "put", "patch", "delete"}:
                continue
            codes = ["400", "401", "403", "404"]
            if method in _BODY_METHODS or "requestBody" in operation:
                codes += ["409", "413", "415"]
            if throttled:
                codes.append("429")
            responses = operation.setdefault("responses", {})
            for code in codes:
                answer = responses.setdefault(code, {"description": _DESCRIPTIONS[code]})
                answer.setdefault("description", _DESCRIPTIONS[code])
                if "content" not in answer:
                    answer["content"] = {"application/json": {"schema": _shape(code)}}
    return result
