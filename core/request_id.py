"""The request id: one string that ties together every log line, task and webhook that a
request caused.

A caller (or the load balancer) may send `X-Request-ID`; a well-formed one is kept so that
its logs and ours line up, anything else is replaced by a fresh id. The answer carries it
back. It lives in a context variable, so that a log line written anywhere below the view
reads it without being handed it; Celery tasks get it in their message headers
(core.task_context) and outbox events keep it on their row (sent as `X-Request-ID` with each
delivery).
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar, Token

import sentry_sdk
from django.http import HttpRequest, HttpResponse

HEADER = "X-Request-ID"
MAX_LENGTH = 128
# What a proxy's or a client's id looks like (UUIDs, hex, ULIDs, "abc-123.4"); no spaces or
# quotes, which would let a caller forge fields in a log line or a header.
_WELL_FORMED = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:-]{0,127}")

_current: ContextVar[str] = ContextVar("request_id", default="")


def current() -> str:
    """Return the id of the request or task running now, or "" outside of both."""
    return _current.get()


def new() -> str:
    return uuid.uuid4().hex


def accepted(value: str | None) -> str:
    """Return `value` when it is a well-formed id, else a fresh one."""
    if value and _WELL_FORMED.fullmatch(value):
        return value
    return new()


def bind(value: str) -> Token[str]:
    """Make `value` the current id until `unbind` is given the token returned."""
    # Errors reported to Sentry (when a DSN is set) carry the id too: its tag is per scope.
    sentry_sdk.set_tag("request_id", value)
    return _current.set(value)


def unbind(token: Token[str]) -> None:
    _current.reset(token)


@contextmanager
def bound(value: str) -> Iterator[str]:
    """Make `value` the current id inside the block."""
    token = bind(value)
    try:
        yield value
    finally:
        unbind(token)


class RequestIdMiddleware:
    """Give each request its id, and send the id back on the answer."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        # META, not request.headers: the latter builds a dict of every header on first use.
        request_id = accepted(request.META.get(_META_KEY))
        token = bind(request_id)
        try:
            response = self.get_response(request)
        finally:
            unbind(token)
        response[HEADER] = request_id
        return response


_META_KEY = "HTTP_" + HEADER.upper().replace("-", "_")
