"""Fulfilment endpoints for warehouses, stores and 3PL (docs/api.md "Fulfilment").

They live with the orders: each action moves the fulfilment's order too (its timeline, its
status, a new sourcing after a rejection). Each action calls one service and answers the
fulfilment as it is after it; a transition the fulfilment's state does not allow is a 409.
"""

from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import generics
from rest_framework.exceptions import NotFound
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.scoping import api_location_work
from core.api.idempotency import IDEMPOTENCY_KEY_PARAMETER, idempotent
from fulfilment.api.filters import FulfilmentFilter
from fulfilment.api.serializers import (
    FulfilmentOutputSerializer,
    FulfilmentRejectInputSerializer,
    FulfilmentShipInputSerializer,
)
from fulfilment.models import Fulfilment
from fulfilment.representation import fulfilments_for_output
from orders.selectors import requests_asked
from orders.services.fulfilments import (
    fulfilment_accept,
    fulfilment_collect,
    fulfilment_ready,
    fulfilment_reject,
    fulfilment_ship,
)

MAX_ID = 2**63 - 1
NOT_FOUND_404 = OpenApiResponse(description="No fulfilment with that id.")
CONFLICT_409 = OpenApiResponse(
    description='Not allowed from the fulfilment\'s status: `{"errors": {"status": [...]}}`.'
)
ERRORS_400 = OpenApiResponse(description='`{"errors": {field: [messages]}}`.')


def _fulfilment_id(pk: int, user) -> int:
    # A fulfilment outside the caller's locations is not there for it: 404.
    visible = api_location_work(Fulfilment.objects.filter(pk=pk), user, "location")
    if pk > MAX_ID or not visible.exists():
        raise NotFound(f"No fulfilment with id {pk}.")
    return pk


def _answer(pk: int) -> Response:
    return Response(FulfilmentOutputSerializer(fulfilments_for_output().get(pk=pk)).data)


def _parse(serializer_class, data) -> dict:
    serializer = serializer_class(data=data)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data


class FulfilmentListView(generics.ListAPIView):
    queryset = fulfilments_for_output()
    serializer_class = FulfilmentOutputSerializer
    filterset_class = FulfilmentFilter

    def get_queryset(self):
        # A held order's requests are not sent to their locations until its release.
        queryset = requests_asked(super().get_queryset())
        return api_location_work(queryset, self.request.user, "location")

    @extend_schema(
        summary="List fulfilment requests",
        description="Newest first. `?location=CODE&status=requested` is a location's queue. "
        "The requests of an order on hold (`held_for`) are left out until it is released.",
        parameters=[
            OpenApiParameter(
                "status",
                OpenApiTypes.STR,
                many=True,
                enum=Fulfilment.Status.values,
                description="One status, or several (?status=requested&status=accepted).",
            )
        ],
    )
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)


class FulfilmentDetailView(APIView):
    @extend_schema(
        summary="Show a fulfilment request",
        responses={200: FulfilmentOutputSerializer, 404: NOT_FOUND_404},
    )
    def get(self, request, pk: int):
        return _answer(_fulfilment_id(pk, request.user))


def _action_schema(summary: str, description: str, request=None, bad_request: bool = False):
    responses = {200: FulfilmentOutputSerializer, 404: NOT_FOUND_404, 409: CONFLICT_409}
    if bad_request:
        responses[400] = ERRORS_400
    return extend_schema(
        summary=summary,
        description=description,
        request=request,
        responses=responses,
        parameters=[IDEMPOTENCY_KEY_PARAMETER],
    )


class FulfilmentAcceptView(APIView):
    @_action_schema(
        "Accept a fulfilment request",
        "The location will prepare it. Accepting an accepted request changes nothing.",
    )
    @idempotent
    def post(self, request, pk: int):
        fulfilment_accept(fulfilment_id=_fulfilment_id(pk, request.user), actor=request.user)
        return _answer(pk)


class FulfilmentRejectView(APIView):
    @_action_schema(
        "Reject a fulfilment request",
        "The location cannot fulfil it: its units are released and the lines are sourced "
        "again at other locations (never at one that rejected the order). After "
        "`OMS_MAX_SOURCING_ATTEMPTS` rejections the order goes to customer service instead.",
        request=FulfilmentRejectInputSerializer,
        bad_request=True,
    )
    @idempotent
    def post(self, request, pk: int):
        pk = _fulfilment_id(pk, request.user)
        data = _parse(FulfilmentRejectInputSerializer, request.data)
        fulfilment_reject(
            fulfilment_id=pk,
            reason=data["reason"],
            reason_code=data["reason_code"],
            actor=request.user,
        )
        return _answer(pk)


class FulfilmentShipView(APIView):
    @_action_schema(
        "Ship a fulfilment",
        "Its units leave `on_hand` and `allocated` through the stock ledger (a `shipment` "
        "movement). Shipping again with the same carrier and tracking number changes "
        "nothing; with another one it is a 409.",
        request=FulfilmentShipInputSerializer,
        bad_request=True,
    )
    @idempotent
    def post(self, request, pk: int):
        pk = _fulfilment_id(pk, request.user)
        data = _parse(FulfilmentShipInputSerializer, request.data)
        fulfilment_ship(
            fulfilment_id=pk,
            carrier=data["carrier"],
            tracking_number=data["tracking_number"],
            actor=request.user,
        )
        return _answer(pk)


class FulfilmentReadyView(APIView):
    @_action_schema(
        "Mark a click & collect parcel ready for pickup",
        "Only for click & collect orders (otherwise a 409: ship it instead).",
    )
    @idempotent
    def post(self, request, pk: int):
        fulfilment_ready(fulfilment_id=_fulfilment_id(pk, request.user), actor=request.user)
        return _answer(pk)


class FulfilmentCollectedView(APIView):
    @_action_schema(
        "Hand a click & collect parcel over to the customer",
        "Only once it is ready for pickup. The units leave the store's stock through the ledger.",
    )
    @idempotent
    def post(self, request, pk: int):
        fulfilment_collect(fulfilment_id=_fulfilment_id(pk, request.user), actor=request.user)
        return _answer(pk)
