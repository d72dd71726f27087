"""Alerts endpoints (docs/api.md "Alerts"): parse, call one service or selector, answer."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import generics, status
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.scoping import api_location_work, location_allowed
from alerts.api import filters
from alerts.api.serializers import (
    AlertOutputSerializer,
    SnoozeInputSerializer,
    StockRuleInputSerializer,
    StockRuleOutputSerializer,
)
from alerts.models import Alert, StockRule
from alerts.selectors import alerts_visible_to
from alerts.services import alert_acknowledge, alert_resolve, alert_snooze, stock_rule_set
from alerts.services.rules import UNSET
from core.api.idempotency import IDEMPOTENCY_KEY_PARAMETER, idempotent
from inventory.models import Location, Product

VIEW = ("alerts.view_alert",)
CHANGE = ("alerts.change_alert",)


class AlertListView(generics.ListAPIView):
    serializer_class = AlertOutputSerializer
    filterset_class = filters.AlertFilter
    required_permissions = {"GET": VIEW}

    def get_queryset(self):
        return (
            api_location_work(alerts_visible_to(self.request.user), self.request.user, "location")
            .select_related("product", "location", "order")
            .only(
                "id",
                "kind",
                "status",
                "opened_at",
                "details",
                "product__sku",
                "location__code",
                "order__number",
            )
            .order_by("-opened_at", "-id")
        )

    @extend_schema(summary="List alerts", description="Newest first; the caller's locations only.")
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)


def _alert(pk: int, user) -> Alert:
    alert = api_location_work(alerts_visible_to(user), user, "location").filter(pk=pk).first()
    if alert is None:
        raise NotFound(f"No alert {pk}.")
    return alert


def _answer(alert: Alert) -> Response:
    alert = Alert.objects.select_related("product", "location", "order").get(pk=alert.pk)
    return Response(AlertOutputSerializer(alert).data)


def _action_schema(summary: str, description: str, request=None):
    return extend_schema(
        summary=summary,
        description=description,
        request=request,
        parameters=[IDEMPOTENCY_KEY_PARAMETER],
        responses={
            200: AlertOutputSerializer,
            404: OpenApiResponse(description="No such alert (or not one of your locations)."),
            409: OpenApiResponse(description="The alert is resolved."),
        },
    )


class AlertAcknowledgeView(APIView):
    required_permissions = {"POST": CHANGE}

    @_action_schema("Acknowledge an alert", "Someone is on it. Twice changes nothing.")
    @idempotent
    def post(self, request, pk: int):
        alert = alert_acknowledge(alert=_alert(pk, request.user), actor=request.user)
        return _answer(alert)


class AlertSnoozeView(APIView):
    required_permissions = {"POST": CHANGE}

    @_action_schema(
        "Snooze an alert",
        "Out of the badge and e-mails until `until`; it still resolves on its own.",
        request=SnoozeInputSerializer,
    )
    @idempotent
    def post(self, request, pk: int):
        # Unknown (or another location's) alert first: 404 whatever the body says.
        alert = _alert(pk, request.user)
        data = SnoozeInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        alert = alert_snooze(alert=alert, until=data.validated_data["until"], actor=request.user)
        return _answer(alert)


class AlertResolveView(APIView):
    required_permissions = {"POST": CHANGE}

    @_action_schema(
        "Resolve an alert",
        "Close it by hand. If its condition still holds, the next evaluation opens a new one.",
    )
    @idempotent
    def post(self, request, pk: int):
        alert = alert_resolve(alert=_alert(pk, request.user), actor=request.user)
        return _answer(alert)


def _by_key(model, field: str, value: str | None, name: str):
    if value is None:
        return None
    found = model.objects.filter(**{field: value}).first() if "\x00" not in value else None
    if found is None:
        raise ValidationError({name: [f"No {model._meta.verbose_name} with {field} '{value}'."]})
    return found


class LowStockRuleView(generics.ListAPIView):
    """`POST` sets a low-stock threshold; `GET` lists the rules."""

    serializer_class = StockRuleOutputSerializer
    filterset_class = filters.StockRuleFilter
    required_permissions = {
        "GET": ("alerts.view_stockrule",),
        "POST": ("alerts.add_stockrule", "alerts.change_stockrule"),
    }

    def get_queryset(self):
        rules = StockRule.objects.select_related("product", "location").order_by("scope", "id")
        # A token tied to locations reads and sets the thresholds of its own locations only.
        return api_location_work(rules, self.request.user, "location")

    @extend_schema(
        summary="Set a low-stock threshold",
        description=(
            "For a product at a location, or a default: `sku` null for every product, "
            "`location` null for every location, both null for the global default. The most "
            "specific rule wins: product at location, then product, then location, then "
            "global. Sending the same pair again replaces its threshold."
        ),
        request=StockRuleInputSerializer,
        parameters=[IDEMPOTENCY_KEY_PARAMETER],
        responses={201: StockRuleOutputSerializer},
    )
    @idempotent
    def post(self, request):
        data = StockRuleInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        product = _by_key(Product, "sku", values["sku"], "sku")
        location = _by_key(Location, "code", values["location"], "location")
        if not location_allowed(self.request.user, location.pk if location else None):
            raise ValidationError({"location": ["Set thresholds for one of your own locations."]})
        rule, _ = stock_rule_set(
            product=product,
            location=location,
            threshold=values["threshold"],
            lead_time_days=values.get("lead_time_days", UNSET),
        )
        rule = StockRule.objects.select_related("product", "location").get(pk=rule.pk)
        return Response(StockRuleOutputSerializer(rule).data, status=status.HTTP_201_CREATED)
