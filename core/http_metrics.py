"""Count and time every request by its route (the URL pattern, not the URL: an order number
in a path must not make a series of its own)."""

from __future__ import annotations

import time
from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

from core.metrics import http_request_seconds, http_requests


class RequestMetricsMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        started = time.perf_counter()
        response = self.get_response(request)
        match = request.resolver_match
        # Paths that match no pattern (scanners) share one series.
        route = f"/{match.route}" if match is not None else "unmatched"
        method = request.method if request.method in _METHODS else "other"
        http_request_seconds.labels(method, route).observe(time.perf_counter() - started)
        http_requests.labels(method, route, str(response.status_code)).inc()
        return response


_METHODS = {"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"}
