import logging

from django.db import DatabaseError, connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect
from django.views import defaults

from core.cache import caches_unavailable

logger = logging.getLogger(__name__)


def home(request: HttpRequest) -> HttpResponse:
    """Send staff to the console; everyone else to the login page through it."""
    return redirect("oms_console:dashboard")


def healthz(request: HttpRequest) -> JsonResponse:
    """Answer 200 when the database answers, for load balancers and `make run`'s wait, and
    say what runs degraded: `{"status": "ok", "database": "ok", "cache": "unavailable"}`
    while Redis is down (pages carry on without it, core/cache.py). 503 without the
    database."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except DatabaseError:
        logger.exception("healthz: the database does not answer")
        return JsonResponse({"status": "unavailable", "database": "unavailable"}, status=503)
    cache = "unavailable" if caches_unavailable() else "ok"
    return JsonResponse({"status": "ok", "database": "ok", "cache": cache})


def bad_request(request: HttpRequest, exception: Exception) -> HttpResponse:
    """Answer JSON under /api/ (a body Django refused before any view ran: too big, too many
    fields, a malformed upload); the HTML page elsewhere."""
    if request.path.startswith("/api/"):
        return JsonResponse({"detail": "Bad request: the body could not be read."}, status=400)
    return defaults.bad_request(request, exception)


def permission_denied(request: HttpRequest, exception: Exception) -> HttpResponse:
    if request.path.startswith("/api/"):
        return JsonResponse(
            {"detail": "You do not have permission to perform this action."}, status=403
        )
    return defaults.permission_denied(request, exception)


def not_found(request: HttpRequest, exception: Exception) -> HttpResponse:
    """Answer JSON under /api/, as the rest of the API does; the HTML page elsewhere."""
    if request.path.startswith("/api/"):
        return JsonResponse({"detail": "Not found."}, status=404)
    return defaults.page_not_found(request, exception)


def server_error(request: HttpRequest) -> HttpResponse:
    if request.path.startswith("/api/"):
        return JsonResponse({"detail": "Internal server error."}, status=500)
    return defaults.server_error(request)
