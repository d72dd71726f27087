"""Transfer and purchase order endpoints (docs/api.md "Transfers between locations",
"Inbound supply: purchase orders").

Each view parses its input, calls one service, and answers the document as it is after it.
A location-scoped token sees the transfers leaving or reaching its locations and the
purchase orders delivered to them; anything else is a 404.
"""

from __future__ import annotations

from django.db.models import Q, QuerySet
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import generics, serializers, status
from rest_framework.exceptions import NotFound
from rest_framework.parsers import MultiPartParser
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.permissions import Reach
from accounts.scoping import api_location_work, location_allowed, scope_for
from core.api.idempotency import IDEMPOTENCY_KEY_PARAMETER, idempotent
from core.text import code_lookup_form
from supply.api.filters import PurchaseOrderFilter, TransferFilter
from supply.api.serializers import (
    PurchaseOrderInputSerializer,
    PurchaseOrderOutputSerializer,
    PurchaseOrderUpdateInputSerializer,
    ReceiveInputSerializer,
    TransferInputSerializer,
    TransferOutputSerializer,
)
from supply.exceptions import LinesShort
from supply.imports import ImportRejected, purchase_orders_import
from supply.models import PurchaseOrder, Transfer
from supply.services.purchase_orders import (
    purchase_order_cancel,
    purchase_order_create,
    purchase_order_receive,
    purchase_order_reschedule,
)
from supply.services.transfers import (
    TransferLineInput,
    transfer_cancel,
    transfer_create,
    transfer_receive,
    transfer_ship,
)

NOT_FOUND_404 = OpenApiResponse(description="No transfer with that number.")
CONFLICT_409 = OpenApiResponse(
    description='Not allowed from the transfer\'s status: `{"errors": {"status": [...]}}`.'
)
SHORT_409 = OpenApiResponse(
    description='`from` cannot spare some lines; nothing is held: `{"errors": {"lines": '
    '[...]}, "code": "insufficient_stock", "lines": [{"line", "sku", "quantity", '
    '"available"}]}`.'
)
ERRORS_400 = OpenApiResponse(description='`{"errors": {field: [messages]}}`.')

_VIEW, _ADD, _CHANGE = "supply.view_transfer", "supply.add_transfer", "supply.change_transfer"


def _parse(serializer_class, data) -> dict:
    serializer = serializer_class(data=data)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data


def transfers_visible(queryset: QuerySet, user) -> QuerySet:
    """Narrow transfers to those the caller works on: leaving or reaching its locations; none
    for a caller scoped by channel only."""
    scope = scope_for(user)
    if scope.locations is not None:
        return queryset.filter(
            Q(source_id__in=scope.locations) | Q(destination_id__in=scope.locations)
        )
    if scope.channels is not None:
        return queryset.none()
    return queryset


def _transfers():
    return Transfer.objects.select_related("source", "destination").prefetch_related(
        "lines__product"
    )


def _transfer_id(number: str, user) -> int:
    key = code_lookup_form(number)
    found = (
        transfers_visible(Transfer.objects.filter(number=key), user)
        .values_list("pk", flat=True)
        .first()
        if key is not None
        else None
    )
    if found is None:
        raise NotFound(f"No transfer with number '{number}'.")
    return found


def _answer(pk: int, *, status_code: int = status.HTTP_200_OK) -> Response:
    return Response(TransferOutputSerializer(_transfers().get(pk=pk)).data, status=status_code)


class TransferListView(generics.ListAPIView):
    serializer_class = TransferOutputSerializer
    filterset_class = TransferFilter
    required_permissions = {"GET": (_VIEW,), "POST": (_ADD,)}
    scope_rules = {"GET": Reach.SCOPED, "POST": Reach.LOCATION}

    def get_queryset(self):
        return transfers_visible(_transfers(), self.request.user)

    @extend_schema(
        summary="List transfers",
        description="Newest first. `?from=`, `?to=` (location codes) and `?status=` narrow it.",
        parameters=[
            OpenApiParameter("from", OpenApiTypes.STR, description="Location it leaves."),
            OpenApiParameter("status", OpenApiTypes.STR, many=True, enum=Transfer.Status.values),
        ],
    )
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    @extend_schema(
        summary="Request a transfer between two locations",
        description=(
            "Holds the units at `from` at once (they count in its `allocated`), all or "
            "nothing. A line `from` cannot spare (its `available`) makes a 409 naming every "
            "such line, and nothing is held. A token scoped to locations moves stock from or "
            "to one of its own."
        ),
        request=TransferInputSerializer,
        responses={201: TransferOutputSerializer, 400: ERRORS_400, 409: SHORT_409},
        parameters=[IDEMPOTENCY_KEY_PARAMETER],
    )
    @idempotent
    def post(self, request):
        data = _parse(TransferInputSerializer, request.data)
        own = scope_for(request.user).locations
        if own is not None and not {data["source"].pk, data["destination"].pk} & own:
            raise NotFound(f"No location with code '{data['source'].code}'.")
        try:
            transfer = transfer_create(
                source=data["source"],
                destination=data["destination"],
                lines=[TransferLineInput(product=p, quantity=q) for p, q in data["lines"]],
                reference=data["reference"],
                actor=request.user,
            )
        except LinesShort as short:
            return Response(
                {
                    "errors": {"lines": [short.message]},
                    "code": short.code,
                    "lines": short.lines,
                },
                status=status.HTTP_409_CONFLICT,
            )
        return _answer(transfer.pk, status_code=status.HTTP_201_CREATED)


class TransferDetailView(APIView):
    required_permissions = {"GET": (_VIEW,)}
    scope_rules = {"GET": Reach.SCOPED}

    @extend_schema(
        summary="Show a transfer", responses={200: TransferOutputSerializer, 404: NOT_FOUND_404}
    )
    def get(self, request, transfer_number: str):
        return _answer(_transfer_id(transfer_number, request.user))


def _action_schema(summary: str, description: str, request=None):
    responses = {200: TransferOutputSerializer, 404: NOT_FOUND_404, 409: CONFLICT_409}
    if request is not None:
        responses[400] = ERRORS_400
    return extend_schema(
        summary=summary,
        description=description,
        request=request,
        responses=responses,
        parameters=[IDEMPOTENCY_KEY_PARAMETER],
    )


class TransferShipView(APIView):
    required_permissions = {"POST": (_CHANGE,)}
    scope_rules = {"POST": Reach.SCOPED}

    @_action_schema(
        "Ship a transfer",
        "Its units leave `from` (ledger `transfer_out`) and count in `in_transit` at `to`. "
        "Only a requested transfer ships (409 otherwise).",
    )
    @idempotent
    def post(self, request, transfer_number: str):
        pk = _transfer_id(transfer_number, request.user)
        transfer_ship(transfer_id=pk, actor=request.user)
        return _answer(pk)


class TransferReceiveView(APIView):
    required_permissions = {"POST": (_CHANGE,)}
    scope_rules = {"POST": Reach.SCOPED}

    @_action_schema(
        "Receive a transfer",
        "The units received enter `on_hand` at `to` (ledger `transfer_in`) and the transfer "
        "is received. Lines short of what shipped are recorded as its `discrepancies`, with "
        "a `transfer_discrepancy` alert at `to`; missing units that arrive later are "
        "received on it the same way, and the discrepancy shrinks. More than is still "
        "expected on a line is a 400 naming it.",
        request=ReceiveInputSerializer,
    )
    @idempotent
    def post(self, request, transfer_number: str):
        pk = _transfer_id(transfer_number, request.user)
        data = _parse(ReceiveInputSerializer, request.data)
        transfer_receive(transfer_id=pk, received=dict(data["lines"]), actor=request.user)
        return _answer(pk)


class TransferCancelView(APIView):
    required_permissions = {"POST": (_CHANGE,)}
    scope_rules = {"POST": Reach.SCOPED}

    @_action_schema(
        "Cancel a transfer",
        "Before it ships: its held units are available at `from` again. 409 once shipped.",
    )
    @idempotent
    def post(self, request, transfer_number: str):
        pk = _transfer_id(transfer_number, request.user)
        transfer_cancel(transfer_id=pk, actor=request.user)
        return _answer(pk)


# Purchase orders

_PO_VIEW, _PO_ADD, _PO_CHANGE = (
    "supply.view_purchaseorder",
    "supply.add_purchaseorder",
    "supply.change_purchaseorder",
)
PO_NOT_FOUND_404 = OpenApiResponse(description="No purchase order with that number.")
PO_CONFLICT_409 = OpenApiResponse(
    description='Not allowed once received or cancelled: `{"errors": {"status": [...]}}`.'
)


def purchase_orders_visible(queryset: QuerySet, user) -> QuerySet:
    """Narrow purchase orders to those delivered to the caller's locations (all for a caller
    not scoped; none for one scoped by channel only)."""
    return api_location_work(queryset, user, "location")


def _purchase_orders():
    return PurchaseOrder.objects.select_related("location").prefetch_related("lines__product")


def _purchase_order_id(number: str, user) -> int:
    key = code_lookup_form(number)
    found = (
        purchase_orders_visible(PurchaseOrder.objects.filter(number=key), user)
        .values_list("pk", flat=True)
        .first()
        if key is not None
        else None
    )
    if found is None:
        raise NotFound(f"No purchase order with number '{number}'.")
    return found


def _po_answer(pk: int, *, status_code: int = status.HTTP_200_OK) -> Response:
    purchase_order = _purchase_orders().get(pk=pk)
    return Response(PurchaseOrderOutputSerializer(purchase_order).data, status=status_code)


def _own_location(user, location) -> None:
    if not location_allowed(user, location.pk):
        raise NotFound(f"No location with code '{location.code}'.")


class PurchaseOrderListView(generics.ListAPIView):
    serializer_class = PurchaseOrderOutputSerializer
    filterset_class = PurchaseOrderFilter
    required_permissions = {"GET": (_PO_VIEW,), "POST": (_PO_ADD,)}
    scope_rules = {"GET": Reach.SCOPED, "POST": Reach.LOCATION}

    def get_queryset(self):
        return purchase_orders_visible(_purchase_orders(), self.request.user)

    @extend_schema(
        summary="List purchase orders",
        description="By expected date. `?location=`, `?status=`, `?supplier=`, "
        "`?expected_before=YYYY-MM-DD` narrow it.",
    )
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    @extend_schema(
        summary="Open a purchase order",
        description=(
            "Its units count in `incoming` at `location` until received. The same `number` "
            "again (also concurrently) answers 200 with the existing purchase order and "
            "changes nothing."
        ),
        request=PurchaseOrderInputSerializer,
        responses={201: PurchaseOrderOutputSerializer, 200: PurchaseOrderOutputSerializer},
        parameters=[IDEMPOTENCY_KEY_PARAMETER],
    )
    @idempotent
    def post(self, request):
        existing = _existing_purchase_order(request)
        if existing is not None:
            return _po_answer(existing)
        data = _parse(PurchaseOrderInputSerializer, request.data)
        _own_location(request.user, data["location"])
        purchase_order, created = purchase_order_create(**data, actor=request.user)
        if not created:
            purchase_order = _purchase_orders().get(
                pk=_purchase_order_id(data["number"], request.user)
            )
        return _po_answer(
            purchase_order.pk,
            status_code=status.HTTP_201_CREATED if created else status.HTTP_200_OK,
        )


def _existing_purchase_order(request) -> int | None:
    """Return the purchase order the body's `number` names, when it exists and the caller
    sees it: sent again, it answers as it is whatever the rest of the body says."""
    number = request.data.get("number") if isinstance(request.data, dict) else None
    if not isinstance(number, str):
        return None
    key = code_lookup_form(number)
    if key is None:
        return None
    return (
        purchase_orders_visible(PurchaseOrder.objects.filter(number=key), request.user)
        .values_list("pk", flat=True)
        .first()
    )


class PurchaseOrderDetailView(APIView):
    required_permissions = {"GET": (_PO_VIEW,), "PATCH": (_PO_CHANGE,)}
    scope_rules = {"GET": Reach.SCOPED, "PATCH": Reach.SCOPED}

    @extend_schema(
        summary="Show a purchase order",
        responses={200: PurchaseOrderOutputSerializer, 404: PO_NOT_FOUND_404},
    )
    def get(self, request, po_number: str):
        return _po_answer(_purchase_order_id(po_number, request.user))

    @extend_schema(
        summary="Move a purchase order's expected date",
        description="Promises made against its units move with it. 409 once received or cancelled.",
        request=PurchaseOrderUpdateInputSerializer,
        responses={
            200: PurchaseOrderOutputSerializer,
            400: ERRORS_400,
            404: PO_NOT_FOUND_404,
            409: PO_CONFLICT_409,
        },
    )
    def patch(self, request, po_number: str):
        pk = _purchase_order_id(po_number, request.user)
        data = _parse(PurchaseOrderUpdateInputSerializer, request.data)
        purchase_order_reschedule(
            purchase_order_id=pk, expected_on=data["expected_on"], actor=request.user
        )
        return _po_answer(pk)


class PurchaseOrderReceiveView(APIView):
    required_permissions = {"POST": (_PO_CHANGE,)}
    scope_rules = {"POST": Reach.SCOPED}

    @extend_schema(
        summary="Receive a purchase order",
        description=(
            "The units enter `on_hand` at its location (ledger `receipt`, the purchase "
            "order's number as reference) and leave `incoming`; backorders fill. More than "
            "ordered is received and flagged (`over_received` on the line). A SKU not on the "
            "purchase order is a 400 naming the line."
        ),
        request=ReceiveInputSerializer,
        responses={
            200: PurchaseOrderOutputSerializer,
            400: ERRORS_400,
            404: PO_NOT_FOUND_404,
            409: PO_CONFLICT_409,
        },
        parameters=[IDEMPOTENCY_KEY_PARAMETER],
    )
    @idempotent
    def post(self, request, po_number: str):
        pk = _purchase_order_id(po_number, request.user)
        data = _parse(ReceiveInputSerializer, request.data)
        purchase_order_receive(
            purchase_order_id=pk, received=dict(data["lines"]), actor=request.user
        )
        return _po_answer(pk)


class PurchaseOrderCancelView(APIView):
    required_permissions = {"POST": (_PO_CHANGE,)}
    scope_rules = {"POST": Reach.SCOPED}

    @extend_schema(
        summary="Cancel a purchase order",
        description="What it still expects leaves `incoming`. 409 once received or cancelled.",
        request=None,
        responses={200: PurchaseOrderOutputSerializer, 404: PO_NOT_FOUND_404, 409: PO_CONFLICT_409},
        parameters=[IDEMPOTENCY_KEY_PARAMETER],
    )
    @idempotent
    def post(self, request, po_number: str):
        pk = _purchase_order_id(po_number, request.user)
        purchase_order_cancel(purchase_order_id=pk, actor=request.user)
        return _po_answer(pk)


class PurchaseOrderImportView(APIView):
    required_permissions = {"POST": (_PO_ADD,)}
    # A file names many locations: a token without scope only.
    scope_rules = {"POST": Reach.NETWORK}
    parser_classes = [MultiPartParser]

    @extend_schema(
        summary="Open purchase orders from a CSV file",
        description=(
            "`multipart/form-data` field `file`: header "
            "`number,supplier,location,expected_on,sku,quantity`, one purchase-order line per "
            "row. All or nothing: any bad row is a 400 listing every bad row "
            '(`{"errors": {"rows": ["Row 3: ..."]}, "rows": [{"row", "field", "message"}]}`) '
            "and nothing is written. Numbers that already exist are left as they are."
        ),
        request={
            "multipart/form-data": {
                "type": "object",
                "properties": {"file": {"type": "string", "format": "binary"}},
                "required": ["file"],
            }
        },
        responses={
            201: OpenApiResponse(
                description='`{"created": [numbers], "existing": [numbers], "lines": n}`'
            ),
            400: ERRORS_400,
        },
    )
    def post(self, request):
        upload = request.FILES.get("file")
        if upload is None:
            raise serializers.ValidationError({"file": ["Send the CSV file as field 'file'."]})
        try:
            text = upload.read().decode("utf-8-sig")
        except UnicodeDecodeError:
            raise serializers.ValidationError({"file": ["The file is not UTF-8 text."]}) from None
        try:
            outcome = purchase_orders_import(text=text, actor=request.user)
        except ImportRejected as rejected:
            return Response(
                {
                    "errors": {
                        "rows": [f"Row {e['row']}: {e['message']}" for e in rejected.row_errors]
                    },
                    "rows": rejected.row_errors,
                    "code": rejected.code,
                },
                status=status.HTTP_400_BAD_REQUEST,
            )
        return Response(
            {"created": outcome.created, "existing": outcome.existing, "lines": outcome.lines},
            status=status.HTTP_201_CREATED,
        )
