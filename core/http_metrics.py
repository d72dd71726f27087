"""Count and time every request by its route (the URL pattern, not the URL: an order number
in a path must not make a series of its own)."""

from __future__ import annotations

import time
from collections.abc import Callable

from django.http import HttpRequest, HttpResponse
from prometheus_client import Counter, Histogram

from core.metrics import http_request_seconds, http_requests


class RequestMetricsMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response
        # The series of each (method, route, status) seen, looked up once: `labels()` takes a
        # lock and builds its key for every sample. Bounded as the series themselves are (the
        # routes, seven methods and "other", the status codes).
        self._series: dict[tuple[str, str | None, int], tuple[Histogram, Counter]] = {}

    def __call__(self, request: HttpRequest) -> HttpResponse:
        started = time.perf_counter()
        response = self.get_response(request)
        match = request.resolver_match
        method = request.method if request.method in _METHODS else "other"
        key = (method, match.route if match is not None else None, response.status_code)
        series = self._series.get(key)
        if series is None:
            series = self._series[key] = _series_for(*key)
        seconds, count = series
        seconds.observe(time.perf_counter() - started)
        count.inc()
        return response


def _series_for(method: str, route: str | None, status: int) -> tuple[Histogram, Counter]:
    # Paths that match no pattern (scanners) share one series.
    label = f"/{route}" if route is not None else "unmatched"
    return (
        http_request_seconds.labels(method, label),
        http_requests.labels(method, label, str(status)),
    )


_METHODS = {"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"}
