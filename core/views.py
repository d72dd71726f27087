from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect
from django.views import defaults


def home(request: HttpRequest) -> HttpResponse:
    """Send staff to the console; everyone else to the login page through it."""
    return redirect("admin:index")


def healthz(request: HttpRequest) -> JsonResponse:
    """Answer 200 when the database answers: for load balancers and `make run`'s wait."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return JsonResponse({"status": "ok"})


def not_found(request: HttpRequest, exception: Exception) -> HttpResponse:
    """Answer JSON under /api/, as the rest of the API does; the HTML page elsewhere."""
    if request.path.startswith("/api/"):
        return JsonResponse({"detail": "Not found."}, status=404)
    return defaults.page_not_found(request, exception)


def server_error(request: HttpRequest) -> HttpResponse:
    if request.path.startswith("/api/"):
        return JsonResponse({"detail": "Internal server error."}, status=500)
    return defaults.server_error(request)
