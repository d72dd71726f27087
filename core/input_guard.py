"""Refuse a request whose URL holds control characters, before any view reads it.

`?q=%00` or `/api/v1/products/%00/` would reach a query as a NUL, which PostgreSQL
refuses in text (a 500); the other control characters are never typed by a person. A query
parameter holding one is a 400 naming the parameter; a path holding one names nothing that
can exist, so it is a 404. JSON under /api/ (as every API error), a short page
elsewhere. Bodies are checked where they are parsed (core.api.parsers; Django's form
fields refuse NUL themselves).
"""

from __future__ import annotations

from collections.abc import Callable

from django.http import (
    HttpRequest,
    HttpResponse,
    HttpResponseBadRequest,
    HttpResponseNotFound,
    JsonResponse,
)
from django.utils.html import escape

from core.text import has_control_characters, text_problem


def url_problem(request: HttpRequest) -> tuple[str, str] | None:
    """Return (what, why) for the first part of the URL holding a control character."""
    if has_control_characters(request.path):
        return "path", text_problem(request.path) or ""
    if not request.META.get("QUERY_STRING"):
        return None  # nothing to parse (an API write has no query)
    for key, values in request.GET.lists():
        for text in (key, *values):
            if has_control_characters(text):
                return key, text_problem(text) or ""
    return None


class InputGuardMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        problem = url_problem(request)
        if problem is None:
            return self.get_response(request)
        what, why = problem
        api = request.path.startswith("/api/")
        if what == "path":
            # No object has such a key (an order number, a SKU): as for any unknown one.
            if api:
                return JsonResponse({"detail": "Not found."}, status=404)
            return HttpResponseNotFound(
                "<!doctype html><title>Not found</title><h1>Not found</h1>",
                content_type="text/html; charset=utf-8",
            )
        if api:
            return JsonResponse({"errors": {what: [why]}}, status=400)
        return HttpResponseBadRequest(
            f"<!doctype html><title>Bad request</title><h1>Bad request</h1>"
            f"<p>{escape(what)}: {escape(why)}</p>",
            content_type="text/html; charset=utf-8",
        )
