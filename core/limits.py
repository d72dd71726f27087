"""Request bodies are capped per endpoint and refused before they are read.

A body is refused with 413 on its declared length alone (`Content-Length`), before any
middleware or view reads it: on API paths with `{"detail": ...}`, elsewhere as plain text. A
chunked body (no length) is read up to the cap and refused past it, so no worker ever holds
more than the cap. The JSON parser (core/api/parsers.py) then counts the objects of a body
while it parses, and stops at the endpoint's limit: an order with 10,000 lines is refused
before 10,000 lines are built, let alone validated.

The caps:
* stock counts (`/api/v1/stock/counts/`, JSON lines or a CSV file) and purchase-order
  files (`/api/v1/purchase-orders/import/`): `OMS_STOCK_COUNT_MAX_BODY_BYTES`, 20 MiB
  (100,000 rows with the longest SKUs, even as UTF-16), and 100,000 lines;
* every other API path: `OMS_API_MAX_BODY_BYTES`, 1 MiB, and 2,000 JSON objects (the
  longest list is an order's or a quote's 500 lines);
* storefront webhooks (`/connectors/`): the API's cap, `OMS_API_MAX_BODY_BYTES`;
* pages (the admin's imports, the console): `OMS_PAGE_MAX_BODY_BYTES`, 50 MiB.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from dataclasses import dataclass
from typing import BinaryIO, cast

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.core.handlers.wsgi import LimitedStream
from django.http import HttpRequest, HttpResponse, JsonResponse

API_PREFIX = "/api/"
# Storefronts' webhooks: machine-to-machine JSON, answered as the API answers.
WEBHOOK_PREFIX = "/connectors/"
COUNT_PATH = "/api/v1/stock/counts/"
# Files of up to 100,000 rows: stock counts, and purchase orders (or shipping notices).
FILE_PATHS = (COUNT_PATH, "/api/v1/purchase-orders/import/")
# A stock count's lines (inventory.api.counts.MAX_LINES) and the body that holds them.
COUNT_MAX_OBJECTS = 100_000 + 1
# Far above any legitimate body: an order or a quote holds at most 500 lines.
API_MAX_OBJECTS = 2_000


@dataclass(frozen=True)
class BodyLimit:
    """What one request body may hold: bytes, and JSON objects (None: not JSON's concern)."""

    bytes: int
    objects: int | None


def body_limit(path: str) -> BodyLimit:
    """Return the limit of the endpoint at `path`."""
    if path.startswith(FILE_PATHS):
        return BodyLimit(settings.OMS_STOCK_COUNT_MAX_BODY_BYTES, COUNT_MAX_OBJECTS)
    if path.startswith((API_PREFIX, WEBHOOK_PREFIX)):
        return BodyLimit(settings.OMS_API_MAX_BODY_BYTES, API_MAX_OBJECTS)
    return BodyLimit(settings.OMS_PAGE_MAX_BODY_BYTES, None)


def too_large(request: HttpRequest, message: str) -> HttpResponse:
    """The 413 answer: JSON on API paths, as every API error; plain text elsewhere."""
    if request.path_info.startswith((API_PREFIX, WEBHOOK_PREFIX)):
        return JsonResponse({"detail": message}, status=413)
    return HttpResponse(message, status=413, content_type="text/plain; charset=utf-8")


class BodyLimitMiddleware:
    """First in MIDDLEWARE: nothing before it reads the body."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        limit = body_limit(request.path_info)
        length = _declared_length(request)
        if length is not None and length > limit.bytes:
            return too_large(request, _over(limit))
        if length is None and _chunked(request):
            body = request.META["wsgi.input"].read(limit.bytes + 1)
            if len(body) > limit.bytes:
                return too_large(request, _over(limit))
            # From here on the body is an ordinary one, of a known length.
            request.META["CONTENT_LENGTH"] = str(len(body))
            request._stream = cast(BinaryIO, LimitedStream(io.BytesIO(body), len(body)))
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        # Django's own cap on form fields (DATA_UPLOAD_MAX_MEMORY_SIZE): a 413 too.
        if isinstance(exception, RequestDataTooBig):
            return too_large(request, "The form data is larger than this page takes.")
        return None


def _declared_length(request: HttpRequest) -> int | None:
    value = request.META.get("CONTENT_LENGTH") or ""
    try:
        return int(value)
    except ValueError:
        return None


def _chunked(request: HttpRequest) -> bool:
    # A server that decodes chunked bodies says so with wsgi.input_terminated (gunicorn);
    # without it Django reads no body at all when there is no length.
    return (
        bool(request.META.get("wsgi.input_terminated"))
        and "chunked" in request.META.get("HTTP_TRANSFER_ENCODING", "").lower()
    )


def _over(limit: BodyLimit) -> str:
    return f"The body is larger than this endpoint takes: at most {limit.bytes:,} bytes."
