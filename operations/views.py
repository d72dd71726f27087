from django.http import HttpRequest, HttpResponse
from django.views.decorators.http import require_GET

from core.metrics import exposition, scrape_allowed


@require_GET
def metrics(request: HttpRequest) -> HttpResponse:
    """Answer Prometheus's scrape: this host's processes' figures and the database's.

    Refused (403) unless the scrape shows the token or comes from an allowed address, as
    OMS_METRICS_TOKEN and OMS_METRICS_ALLOWED_IPS say; with neither set, always refused."""
    if not scrape_allowed(
        authorization=request.headers.get("Authorization", ""),
        address=request.META.get("REMOTE_ADDR", ""),
    ):
        return HttpResponse(
            "Forbidden: metrics need the scrape token or an allowed address.\n",
            status=403,
            content_type="text/plain",
        )
    body, content_type = exposition()
    return HttpResponse(body, content_type=content_type)
