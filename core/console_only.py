"""The console's middleware, passed by on an API request that carries no cookie.

Sessions, CSRF, the signed-in person and the messages shown on the next page serve the
console and the admin (and the API when a signed-in person calls it from a browser: the API
takes session authentication too). A request to /api/ with no `Cookie` header has no
session, no CSRF cookie and no messages: these four would build an empty session, an
anonymous person and two empty message stores for it, which nothing reads. One prefix test
and one key lookup skip them; a request with any cookie goes through all four as before, so
a session-authenticated API call keeps its CSRF check.

Each class stays in MIDDLEWARE's place of the one it extends, so that the order of the
stack (and CSRF's `process_view`, which Django calls whatever `__call__` did) is unchanged:
a view that is not exempt from CSRF still refuses an unsafe request without the cookie.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from django.contrib.auth.middleware import AuthenticationMiddleware as _Authentication
from django.contrib.auth.models import AnonymousUser
from django.contrib.messages.middleware import MessageMiddleware as _Messages
from django.contrib.sessions.middleware import SessionMiddleware as _Session
from django.http import HttpRequest, HttpResponseBase
from django.middleware.csrf import CsrfViewMiddleware as _Csrf

from core.limits import API_PREFIX

# As MiddlewareMixin answers: an awaitable when the stack runs under ASGI.
_Answer = HttpResponseBase | Awaitable[HttpResponseBase]


def cookieless_api(request: HttpRequest) -> bool:
    """True for an API request that carries no cookie: token-authenticated, or anonymous."""
    return "HTTP_COOKIE" not in request.META and request.path_info.startswith(API_PREFIX)


class _PassedByCookielessApi:
    """Hands a cookieless API request straight on; any other goes through the middleware."""

    get_response: Callable[[HttpRequest], _Answer]

    def __call__(self, request: HttpRequest) -> _Answer:
        if cookieless_api(request):
            self.passed_by(request)
            return self.get_response(request)
        answer: _Answer = super().__call__(request)  # type: ignore[misc]
        return answer

    def passed_by(self, request: HttpRequest) -> None:
        """Set what a view may read that the middleware would have set."""


class SessionMiddleware(_PassedByCookielessApi, _Session):
    pass


class CsrfViewMiddleware(_PassedByCookielessApi, _Csrf):
    # Without a cookie there is no CSRF secret to read and none to send back.
    pass


class AuthenticationMiddleware(_PassedByCookielessApi, _Authentication):
    def passed_by(self, request: HttpRequest) -> None:
        # What the session-less request would have found: nobody signed in.
        request.user = AnonymousUser()


class MessageMiddleware(_PassedByCookielessApi, _Messages):
    pass
