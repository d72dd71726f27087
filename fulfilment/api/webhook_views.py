"""Webhook subscriptions under /api/v1/webhooks/ (docs/api.md "Webhooks")."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import generics, status
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.scoping import api_location_work, location_allowed
from core.api.idempotency import IDEMPOTENCY_KEY_PARAMETER, idempotent
from fulfilment.api.webhook_serializers import WebhookInputSerializer, WebhookOutputSerializer
from outbox.models import WebhookSubscription
from outbox.services import subscription_create, subscription_delete

MAX_ID = 2**63 - 1


class WebhookListView(generics.ListAPIView):
    queryset = WebhookSubscription.objects.select_related("location").order_by("id")
    serializer_class = WebhookOutputSerializer

    def get_queryset(self):
        # A 3PL's token sees the subscriptions of its own locations only.
        return api_location_work(super().get_queryset(), self.request.user, "location")

    @extend_schema(summary="List webhook subscriptions")
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    @extend_schema(
        summary="Subscribe a URL to events",
        description=(
            "Each event is POSTed as `{id, event, created_at, data}` with `X-OMS-Signature: "
            "sha256=<hex HMAC-SHA256 of the raw body with the secret>` and `X-OMS-Event-Id`, "
            "retried with backoff until a 2xx answer. With a `location`, only the events "
            "about that location are sent (its fulfilments and stock): never an `order.*` "
            "event, which is about a whole order. A token scoped to locations must name one "
            "of its own (400 on `location`); a token scoped to channels cannot subscribe (403)."
        ),
        request=WebhookInputSerializer,
        responses={
            201: WebhookOutputSerializer,
            400: OpenApiResponse(description='`{"errors": {field: [messages]}}`.'),
        },
        parameters=[IDEMPOTENCY_KEY_PARAMETER],
    )
    @idempotent
    def post(self, request):
        serializer = WebhookInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        location = serializer.validated_data["location"]
        # A token scoped to locations subscribes to the events of one of them (a subscription
        # without a location would receive the whole network's); accounts.permissions has
        # already refused a token scoped to channels only.
        if not location_allowed(request.user, location.pk if location else None):
            raise ValidationError(
                {"location": ["Subscribe to the events of one of your own locations."]}
            )
        subscription = subscription_create(**serializer.validated_data, actor=request.user)
        return Response(WebhookOutputSerializer(subscription).data, status=status.HTTP_201_CREATED)


class WebhookDetailView(APIView):
    def _subscription(self, pk: int) -> WebhookSubscription:
        subscription = None
        if pk <= MAX_ID:
            subscription = WebhookSubscription.objects.select_related("location").filter(pk=pk)
            subscription = api_location_work(subscription, self.request.user, "location").first()
        if subscription is None:
            raise NotFound(f"No webhook subscription with id {pk}.")
        return subscription

    @extend_schema(summary="Show a webhook subscription", responses={200: WebhookOutputSerializer})
    def get(self, request, pk: int):
        return Response(WebhookOutputSerializer(self._subscription(pk)).data)

    @extend_schema(
        summary="Delete a webhook subscription",
        description="Its waiting deliveries are not sent.",
        responses={204: None, 404: OpenApiResponse(description="No such subscription.")},
    )
    def delete(self, request, pk: int):
        subscription_delete(subscription=self._subscription(pk))
        return Response(status=status.HTTP_204_NO_CONTENT)
