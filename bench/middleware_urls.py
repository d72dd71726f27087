"""The URLs of bench/middleware.py: capture's path and the console's, on a view that does
nothing, so that only the stack around a view is measured."""

from django.http import HttpRequest, HttpResponse
from django.urls import path
from django.views.decorators.csrf import csrf_exempt


@csrf_exempt
def nothing(request: HttpRequest) -> HttpResponse:
    return HttpResponse(b"{}", status=201, content_type="application/json")


urlpatterns = [
    path("api/v1/orders/", nothing),
    path("console/", nothing),
]
