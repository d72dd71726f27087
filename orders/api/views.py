"""Order endpoints (docs/api.md "Orders"), and the customer-service actions on an order.

Each view parses its input, calls one service, and answers the order as it is after it.
"""

from __future__ import annotations

from django.views.decorators.csrf import csrf_exempt
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import generics, status
from rest_framework.exceptions import NotFound
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts import authentication
from accounts.scoping import api_orders
from core.api.idempotency import IDEMPOTENCY_KEY_PARAMETER, idempotent
from core.api.parsers import JSONParser
from core.structs import struct_schema
from orders.api.capture import order_capture_view
from orders.api.filters import OrderFilter
from orders.api.serializers import (
    OrderCancelInputSerializer,
    OrderDetailOutputSerializer,
    OrderLineCancelInputSerializer,
    OrderNoteInputSerializer,
    OrderOutputSerializer,
)
from orders.inputs import OrderBody
from orders.models import Order
from orders.representation import orders_for_output
from orders.services.lifecycle import (
    order_cancel,
    order_line_cancel,
    order_note_add,
    order_resource,
)
from orders.tracking.links import number_is_plausible

# order_line.line_no is a smallint: a larger number cannot name a line.
MAX_LINE_NO = 32767

ERRORS_400 = OpenApiResponse(
    description='`{"errors": {field: [messages]}}`; nested fields keep their nesting.'
)
CONFLICT_409 = OpenApiResponse(
    description='The order\'s state does not allow it: `{"errors": {"status": [...]}}`.'
)
NOT_FOUND_404 = OpenApiResponse(description="No order with that number.")
ORDER_BODY_SCHEMA = struct_schema(OrderBody)


def _parse(serializer_class, data) -> dict:
    serializer = serializer_class(data=data)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data


def _order(number: str, user) -> Order:
    # An order outside the caller's scope is not there for it: 404.
    orders = api_orders(Order.objects.filter(number=number), user)
    order = orders.first() if number_is_plausible(number) else None
    if order is None:
        raise NotFound(f"No order with number '{number}'.")
    return order


def _answer(order_pk: int, request: Request, *, status_code: int = status.HTTP_200_OK):
    order = orders_for_output().get(pk=order_pk)
    body = OrderDetailOutputSerializer(order, context={"request": request}).data
    return Response(body, status=status_code)


class OrderListView(generics.ListAPIView):
    authentication_classes = authentication.authentication_classes()
    serializer_class = OrderOutputSerializer
    filterset_class = OrderFilter
    # Orders nest objects and lists: JSON only (a form body is a 415, not a guess).
    parser_classes = [JSONParser]

    def get_queryset(self):
        return api_orders(orders_for_output(events=False), self.request.user)

    @extend_schema(
        summary="List orders",
        description=(
            "Newest first. `?email=` matches the customer's address exactly, in any case. "
            "The timeline (`events`) is in the detail only."
        ),
        parameters=[
            OpenApiParameter(
                "status",
                OpenApiTypes.STR,
                many=True,
                enum=Order.Status.values,
                description="One status, or several (?status=allocated&status=backordered).",
            )
        ],
    )
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    @extend_schema(
        summary="Take an order",
        description=(
            "Records the order and allocates it in the same request: the answer's `status` is "
            "`allocated`, `partially_allocated` or `backordered`. The same `channel` + "
            "`external_id` sent again (also concurrently) answers **200** with the existing "
            "order, whatever the body. `click_and_collect` needs `pickup_location` (an active "
            "click & collect store that serves the channel) and is refused with a 400 on "
            "`pickup_location` when that store cannot hold the whole basket; other methods "
            "need `shipping_address` and refuse `pickup_location`. A rejected order writes "
            "nothing."
        ),
        request={"application/json": ORDER_BODY_SCHEMA},
        responses={
            201: OrderDetailOutputSerializer,
            200: OpenApiResponse(
                OrderDetailOutputSerializer,
                description="The channel already sent this external_id: the existing order.",
            ),
            400: ERRORS_400,
        },
        parameters=[IDEMPOTENCY_KEY_PARAMETER],
    )
    def post(self, request):
        # Never reached through the URL (`as_view` sends POSTs to the plain view first); the
        # schema describes this method, and a DRF caller of it gets the same view.
        return order_capture_view(request._request)

    @classmethod
    def as_view(cls, **initkwargs):
        """Return DRF's view for GET, with POSTs sent to order capture's plain view."""
        listing = super().as_view(**initkwargs)

        def view(request, *args, **kwargs):
            if request.method == "POST":
                return order_capture_view(request)
            return listing(request, *args, **kwargs)

        # Django's, DRF's and drf-spectacular's attributes (`view_class`, `cls`, ...): the
        # route is found as this class's, `post` included.
        view.__dict__.update(listing.__dict__)
        return csrf_exempt(view)


class OrderDetailView(APIView):
    authentication_classes = authentication.authentication_classes()

    @extend_schema(
        summary="Show an order, with its timeline",
        responses={200: OrderDetailOutputSerializer, 404: NOT_FOUND_404},
    )
    def get(self, request, number: str):
        return _answer(_order(number, request.user).pk, request)


class OrderCancelView(APIView):
    authentication_classes = authentication.authentication_classes()

    @extend_schema(
        summary="Cancel an order",
        description=(
            "Releases its allocations and cancels its open fulfilment requests. Cancelling a "
            "cancelled order answers 200 and changes nothing; once anything has shipped it is "
            "a 409."
        ),
        request=OrderCancelInputSerializer,
        responses={200: OrderDetailOutputSerializer, 404: NOT_FOUND_404, 409: CONFLICT_409},
        parameters=[IDEMPOTENCY_KEY_PARAMETER],
    )
    @idempotent
    def post(self, request, number: str):
        order = _order(number, request.user)
        data = _parse(OrderCancelInputSerializer, request.data)
        order_cancel(order=order, actor=request.user, reason=data["reason"])
        return _answer(order.pk, request)


class OrderLineCancelView(APIView):
    authentication_classes = authentication.authentication_classes()

    @extend_schema(
        summary="Cancel units of one order line",
        description=(
            "`line` is the line's number (`lines[].line`). Without `quantity`, every unit not "
            "yet shipped is cancelled. Units never allocated go first, then allocations are "
            "released. More units than the line still has, or an order that is cancelled or "
            "handed over, is a 409."
        ),
        request=OrderLineCancelInputSerializer,
        responses={
            200: OrderDetailOutputSerializer,
            400: ERRORS_400,
            404: OpenApiResponse(description="No such order, or no such line in it."),
            409: CONFLICT_409,
        },
        parameters=[IDEMPOTENCY_KEY_PARAMETER],
    )
    @idempotent
    def post(self, request, number: str, line: int):
        order = _order(number, request.user)
        if line > MAX_LINE_NO or not order.lines.filter(line_no=line).exists():
            raise NotFound(f"Order {order.number} has no line {line}.")
        data = _parse(OrderLineCancelInputSerializer, request.data)
        order_line_cancel(
            order=order,
            line_no=line,
            quantity=data["quantity"],
            actor=request.user,
            reason=data["reason"],
        )
        return _answer(order.pk, request)


class OrderNoteView(APIView):
    authentication_classes = authentication.authentication_classes()

    @extend_schema(
        summary="Add an internal note to an order",
        description=(
            "Customer service: the note joins the timeline with `public: false`; the "
            "customer's tracking page never shows it."
        ),
        request=OrderNoteInputSerializer,
        responses={201: OrderDetailOutputSerializer, 400: ERRORS_400, 404: NOT_FOUND_404},
        parameters=[IDEMPOTENCY_KEY_PARAMETER],
    )
    @idempotent
    def post(self, request, number: str):
        order = _order(number, request.user)
        data = _parse(OrderNoteInputSerializer, request.data)
        order_note_add(order=order, text=data["text"], actor=request.user)
        return _answer(order.pk, request, status_code=status.HTTP_201_CREATED)


class OrderResourceView(APIView):
    authentication_classes = authentication.authentication_classes()

    @extend_schema(
        summary="Source an order again",
        description=(
            "Customer service: allocate what the order still lacks, leaving out locations "
            "that rejected it, and take it out of the customer-service queue "
            "(`needs_attention`). No body. A cancelled, shipped or handed-over order is a 409."
        ),
        request=None,
        responses={200: OrderDetailOutputSerializer, 404: NOT_FOUND_404, 409: CONFLICT_409},
        parameters=[IDEMPOTENCY_KEY_PARAMETER],
    )
    @idempotent
    def post(self, request, number: str):
        order = _order(number, request.user)
        order_resource(order=order, actor=request.user)
        return _answer(order.pk, request)
