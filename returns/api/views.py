"""Return endpoints (docs/api.md, "Returns, refunds and exchanges").

Each view parses its input, calls one service and answers the return as it is after it.
"""

from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import generics, serializers, status
from rest_framework.exceptions import NotFound
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.permissions import Reach
from accounts.scoping import api_orders, location_allowed
from core.api.idempotency import IDEMPOTENCY_KEY_PARAMETER, idempotent
from core.api.parsers import JSONParser
from orders.models import Order
from returns.api.filters import ReturnFilter
from returns.api.serializers import (
    CancelInputSerializer,
    ReceiveInputSerializer,
    RefundInputSerializer,
    ReturnInputSerializer,
    ReturnOutputSerializer,
)
from returns.models import Return
from returns.numbers import return_number_is_plausible
from returns.representation import returns_for_output
from returns.scoping import api_returns
from returns.services import return_cancel, return_create, return_receive, return_refund

ERRORS_400 = OpenApiResponse(description='`{"errors": {field: [messages]}}`.')
CONFLICT_409 = OpenApiResponse(
    description='The return\'s state does not allow it: `{"errors": {"status": [...]}}`.'
)
NOT_FOUND_404 = OpenApiResponse(description="No return with that number.")
VIEW = ("returns.view_return",)
CHANGE = ("returns.change_return",)


def _return(number: str, user) -> Return:
    # A return outside the caller's scope is not there for it: 404.
    number = number.strip().upper()
    ret = None
    if return_number_is_plausible(number):
        ret = api_returns(Return.objects.filter(number=number), user).first()
    if ret is None:
        raise NotFound(f"No return with number '{number}'.")
    return ret


def _answer(return_id: int, *, status_code: int = status.HTTP_200_OK) -> Response:
    ret = returns_for_output().get(pk=return_id)
    return Response(ReturnOutputSerializer(ret).data, status=status_code)


def _parse(serializer_class, data):
    serializer = serializer_class(data=data)
    serializer.is_valid(raise_exception=True)
    return serializer


class ReturnListView(generics.ListAPIView):
    serializer_class = ReturnOutputSerializer
    filterset_class = ReturnFilter
    parser_classes = [JSONParser]
    required_permissions = {"GET": VIEW, "POST": ("returns.add_return",)}
    # Reading: each caller sees its own (returns.scoping). Making a return is work for a
    # channel: a storefront or customer service, not a location's token.
    scope_rules = {"GET": Reach.SCOPED, "POST": Reach.CHANNEL}

    def get_queryset(self):
        return api_returns(returns_for_output(), self.request.user)

    @extend_schema(
        summary="List returns",
        description="Newest first; `?location=CODE&status=requested` is what a location expects.",
        parameters=[
            OpenApiParameter(
                "status",
                OpenApiTypes.STR,
                many=True,
                enum=Return.Status.values,
                description="One status, or several.",
            )
        ],
    )
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    @extend_schema(
        summary="Make a return",
        description=(
            "Units the customer received (shipped or collected), within the channel's "
            "`return_days` from the shipment or collection. More units than were received "
            "and are not on another return (also concurrently), a SKU not on the order, an "
            "order not shipped yet or a return after `return_days`: 400 saying why, naming "
            "the line. An `exchange` places a new order on the same channel (`external_id` "
            "= the return number) for `exchange_lines` at once."
        ),
        request=ReturnInputSerializer,
        responses={201: ReturnOutputSerializer, 400: ERRORS_400},
        parameters=[IDEMPOTENCY_KEY_PARAMETER],
    )
    @idempotent
    def post(self, request) -> Response:
        serializer = _parse(ReturnInputSerializer, request.data)
        data = serializer.to_input(orders=api_orders(Order.objects.all(), request.user))
        ret = return_create(data=data, actor=request.user)
        return _answer(ret.pk, status_code=status.HTTP_201_CREATED)


class ReturnDetailView(APIView):
    required_permissions = {"GET": VIEW}
    scope_rules = {"GET": Reach.SCOPED}

    @extend_schema(
        summary="Read a return",
        responses={200: ReturnOutputSerializer, 404: NOT_FOUND_404},
    )
    def get(self, request, return_number: str) -> Response:
        return _answer(_return(return_number, request.user).pk)


class ReturnReceiveView(APIView):
    parser_classes = [JSONParser]
    required_permissions = {"POST": CHANGE}
    # Receiving is work at a location: the token must hold the receiving location.
    scope_rules = {"POST": Reach.LOCATION}

    @extend_schema(
        summary="Receive a return's units",
        description=(
            "At any location. `restock` adds the units to `on_hand` there through the ledger "
            "(movement kind `return`); `damaged` sets them aside in quarantine and `dispose` "
            "records them, both leaving `on_hand` unchanged. More units than the return "
            "still expects: 400, nothing applied."
        ),
        request=ReceiveInputSerializer,
        responses={
            200: ReturnOutputSerializer,
            400: ERRORS_400,
            404: NOT_FOUND_404,
            409: CONFLICT_409,
        },
        parameters=[IDEMPOTENCY_KEY_PARAMETER],
    )
    @idempotent
    def post(self, request, return_number: str) -> Response:
        ret = _return(return_number, request.user)
        serializer = _parse(ReceiveInputSerializer, request.data)
        location = serializer.validated_data["location"]
        if not location_allowed(request.user, location.pk):
            raise serializers.ValidationError(
                {"location": ["This token receives at its own locations only."]}
            )
        answer = return_receive(
            ret=ret, location=location, lines=serializer.to_lines(), actor=request.user
        )
        # The service hands the return back as written: answered without reading it again.
        return Response(answer)


class ReturnRefundView(APIView):
    parser_classes = [JSONParser]
    required_permissions = {"POST": ("returns.refund_return",)}
    scope_rules = {"POST": Reach.CHANNEL}

    @extend_schema(
        summary="Record the refund",
        description=(
            "Omitted `amount`: the received units at the order's unit prices, plus the "
            "delivery price once when a received line's reason is the retailer's fault "
            "(`damaged`, `wrong_item`, `not_as_described`). Recorded once: asked again, "
            "the answer is the return as it is (409 for a different amount). The payment "
            "is made by whoever listens to `return.refunded`."
        ),
        request=RefundInputSerializer,
        responses={
            200: ReturnOutputSerializer,
            400: ERRORS_400,
            404: NOT_FOUND_404,
            409: CONFLICT_409,
        },
    )
    def post(self, request, return_number: str) -> Response:
        ret = _return(return_number, request.user)
        data = _parse(RefundInputSerializer, request.data).validated_data
        ret = return_refund(
            ret=ret, amount=data["amount"], reason=data["reason"], actor=request.user
        )
        return _answer(ret.pk)


class ReturnCancelView(APIView):
    parser_classes = [JSONParser]
    required_permissions = {"POST": CHANGE}
    scope_rules = {"POST": Reach.CHANNEL}

    @extend_schema(
        summary="Cancel a return",
        description=(
            "Before any unit is received; 409 after. Its units may be returned again; an "
            "exchange order not shipped yet is cancelled with it."
        ),
        request=CancelInputSerializer,
        responses={200: ReturnOutputSerializer, 404: NOT_FOUND_404, 409: CONFLICT_409},
    )
    def post(self, request, return_number: str) -> Response:
        ret = _return(return_number, request.user)
        data = _parse(CancelInputSerializer, request.data).validated_data
        ret = return_cancel(ret=ret, actor=request.user, reason=data["reason"])
        return _answer(ret.pk)
