"""One error shape for the whole API: 400 `{"errors": {field: [messages]}}` (docs/api.md)."""

import logging
from typing import Any

from django.core.exceptions import PermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import DataError
from django.http import Http404
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from core.exceptions import DomainError, FieldErrors

logger = logging.getLogger(__name__)


def _as_field_errors(detail: Any) -> dict[str, Any]:
    if isinstance(detail, dict):
        return {
            str(key): value if isinstance(value, list | dict) else [value]
            for key, value in detail.items()
        }
    if isinstance(detail, list):
        return {"non_field_errors": detail}
    return {"non_field_errors": [detail]}


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """Map domain errors to 400/409 and validation errors to the `errors` envelope."""
    if isinstance(exc, DomainError):
        body: dict[str, Any] = {
            "errors": exc.errors
            if isinstance(exc, FieldErrors)
            else {exc.field or "non_field_errors": [exc.message]}
        }
        if exc.code:
            body["code"] = exc.code
        return Response(body, status=exc.http_status)
    if isinstance(exc, DataError):
        # The database refused a value (out of range, NUL in text) that validation let through:
        # bad input, so a 400; logged, because validation should have caught it.
        logger.warning("database refused a value: %s", exc)
        return Response(
            {"detail": "A value is out of range or malformed."},
            status=status.HTTP_400_BAD_REQUEST,
        )
    if isinstance(exc, DjangoValidationError):
        exc = exceptions.ValidationError(
            exc.message_dict if hasattr(exc, "error_dict") else {"non_field_errors": exc.messages}
        )
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, PermissionDenied):
        exc = exceptions.PermissionDenied()
    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    if (
        isinstance(exc, exceptions.ValidationError)
        and response.status_code == status.HTTP_400_BAD_REQUEST
    ):
        response.data = {"errors": _as_field_errors(response.data)}
    return response
