from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect


def home(request: HttpRequest) -> HttpResponse:
    """Send staff to the console; everyone else to the login page through it."""
    return redirect("admin:index")


def healthz(request: HttpRequest) -> JsonResponse:
    """Answer 200 when the database answers: for load balancers and `make run`'s wait."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return JsonResponse({"status": "ok"})
