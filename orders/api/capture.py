"""`POST /api/v1/orders/`: order capture's view, a plain Django view.

Every order of every channel comes through here, and the goal is for the app to cost about
what PostgreSQL does. So the path is cut to what an order needs, each part once:

* no DRF dispatch: DRF's authentication classes, the API's permission class (role and
  scope) and throttles run as DRF runs them (`_caller`), but no negotiation, no parser
  classes, no `Response` rendering on the way to a 201;
* the body is read with the API's JSON parser (its limits and control-character check)
  straight into its one definition, `orders.inputs.OrderBody` (msgspec: checks in C);
* the answer is the order drawn once by order capture for its `order.created` event
  (`Captured.drawn`), given the caller's tracking URL and the timeline, encoded by msgspec;
* an error (bad input, refused token, a conflict) is answered by DRF's own error handling
  (`_refusal`), so every refusal keeps the API's envelope, status and headers;
* order capture writes every row of the order in one statement (orders.services.capture,
  core.sql.Writes).

`OrderListView` (orders.api.views) sends its POSTs here before DRF sees them; its `post`,
which the OpenAPI document describes, is this same view.
"""

from __future__ import annotations

import io
from typing import Any, cast

import msgspec
from django.contrib.auth.models import AbstractBaseUser
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from rest_framework import exceptions, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.settings import api_settings
from rest_framework.views import APIView

from accounts import authentication
from accounts.permissions import RolePermission
from accounts.scoping import api_channel_allowed, api_reservations
from core.api.idempotency import idempotent_run
from core.api.parsers import JSONParser
from core.structs import struct_convert
from orders.inputs import OrderBody
from orders.models import Reservation
from orders.representation import events_drawn, order_representation_read, orders_for_output
from orders.services.capture import order_capture, order_input_resolve
from orders.tracking.links import tracking_url

_JSON = "application/json"
_ENCODER = msgspec.json.Encoder()


class _Refusals(APIView):
    """DRF's error handling for this view: the exception handler of the API's settings,
    `WWW-Authenticate` on a 401, `Retry-After` on a 429, the answer rendered as JSON."""

    authentication_classes = authentication.authentication_classes()

    @classmethod
    def bound(cls, api: Request) -> _Refusals:
        view = cls()
        view.args, view.kwargs, view.request = (), {}, api
        view.headers = view.default_response_headers
        view.format_kwarg = None
        return view

    @classmethod
    def rendered(cls, api: Request, response: Response) -> HttpResponse:
        return cls.bound(api).finalize_response(api, response)


@csrf_exempt
def order_capture_view(request: HttpRequest) -> HttpResponse:
    """Take an order: 201 with it, 200 with the one the channel already sent, or a refusal."""
    api = Request(request, authenticators=[cls() for cls in _Refusals.authentication_classes])
    try:
        _caller(api)
        response = idempotent_run(api, lambda: _capture(api), lambda exc: _refusal(api, exc))
    except Exception as exc:
        return _refusal(api, exc)
    if isinstance(response, Response) and not hasattr(response, "accepted_renderer"):
        # A replayed answer, or the 409 of a key in use: DRF's, rendered as DRF renders.
        response = _Refusals.rendered(api, response)
    return response


def _caller(api: Request) -> None:
    """Authenticate, and admit the caller as DRF's `APIView.initial` would for this route."""
    permission = RolePermission()
    # Reading `user` runs the authenticators; a bad token raises AuthenticationFailed here.
    if not permission.has_permission(api, None):
        if api.authenticators and not api.successful_authenticator:
            raise exceptions.NotAuthenticated()
        raise exceptions.PermissionDenied(getattr(permission, "message", None))
    throttles: Any = api_settings.DEFAULT_THROTTLE_CLASSES  # classes, imported by DRF
    for throttle in (cls() for cls in throttles):
        if not throttle.allow_request(api, None):
            raise exceptions.Throttled(throttle.wait())


def _capture(api: Request) -> HttpResponse:
    data = order_input_resolve(struct_convert(_body(api._request), OrderBody))
    # Before capture looks for the channel's external_id: a token scoped to other channels
    # never learns whether that order exists.
    if not api_channel_allowed(api.user, data.channel.pk):
        raise exceptions.ValidationError(
            {"channel": ["This token places orders for its own channels only."]}
        )
    held = data.reservation
    if (
        held is not None
        and not api_reservations(Reservation.objects.filter(pk=held.pk), api.user).exists()
    ):
        # Another caller's reservation is not there for this one (as for GET of it).
        raise exceptions.ValidationError({"reservation": [f"No reservation '{held.public_id}'."]})
    captured = order_capture(data=data, actor=cast(AbstractBaseUser, api.user))
    if not captured.created or captured.drawn is None:
        order = orders_for_output().get(pk=captured.order.pk)
        body = order_representation_read(order, events=True, request=api._request)
        return _json(body, status.HTTP_200_OK)
    # The new order as its event carries it, with what only the answer shows.
    body = {
        **captured.drawn,
        "tracking_url": tracking_url(captured.order, api._request),
        "events": events_drawn(captured.events, timezone.get_current_timezone()),
    }
    return _json(body, status.HTTP_201_CREATED)


def _body(request: HttpRequest) -> Any:
    """Return the JSON body as the API's parser reads it; an empty body is an empty object."""
    raw = request.body
    if not raw:
        return {}
    if request.content_type != _JSON:
        raise exceptions.UnsupportedMediaType(request.content_type or "")
    parser_context = {"request": request, "encoding": request.encoding or "utf-8"}
    return JSONParser().parse(io.BytesIO(raw), _JSON, parser_context)


def _json(body: dict, status_code: int) -> HttpResponse:
    return HttpResponse(_ENCODER.encode(body), status=status_code, content_type=_JSON)


def _refusal(api: Request, exc: Exception) -> HttpResponse:
    """Answer `exc` as any API view would; raise it again when DRF would (a 500)."""
    view = _Refusals.bound(api)
    return view.finalize_response(api, view.handle_exception(exc))
