"""The admin's changelists read from the read replica (core.replica), while it keeps up.

A changelist shown with GET only reads: its rows, its counts, its filters' choices. The
middleware runs such a request inside `heavy_reads()`, template rendering included (the
rows of a changelist are read while its template renders). What a write or a refusal rests
on is read on the primary first, before the block: the session, the person, their
permissions and their location and channel scope, so a login, a revoked permission or a
new scope counts at once, not after the replica's lag.

A changelist whose view writes (the alert policy's creates its one row) says so with
`changelist_on_primary = True` on its ModelAdmin and is left on the primary. A POST to a
changelist (an action, a list edit) never reads from the replica.
"""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponseBase
from django.urls import Resolver404, resolve, reverse

from accounts.scoping import channel_ids_for, location_ids_for
from core.replica import configured, heavy_reads


class AdminChangelistReadsMiddleware:
    """Serve the admin's changelists (GET, HEAD) with their reads on the replica."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response
        self._admin_prefix: str | None = None

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        if request.method not in ("GET", "HEAD") or not configured():
            return self.get_response(request)
        if not self._is_changelist(request):
            return self.get_response(request)
        user = request.user  # the session and the person, read on the primary
        if user.is_authenticated:
            # Cached on the user object: the admin's checks and scoping then read no further.
            user.get_all_permissions()
            location_ids_for(user)
            channel_ids_for(user)
        with heavy_reads():
            return self.get_response(request)

    def _is_changelist(self, request: HttpRequest) -> bool:
        if self._admin_prefix is None:
            self._admin_prefix = reverse("admin:index")
        if not request.path_info.startswith(self._admin_prefix):
            return False
        try:
            match = resolve(request.path_info, getattr(request, "urlconf", None))
        except Resolver404:
            return False
        if match.namespace != "admin" or not (match.url_name or "").endswith("_changelist"):
            return False
        model_admin = getattr(match.func, "model_admin", None)
        return not getattr(model_admin, "changelist_on_primary", False)
