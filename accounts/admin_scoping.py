"""Admin pieces that keep location-bound staff to their locations.

`LocationScopedAdmin` narrows `get_queryset`, which the changelist, its search, its
filters, exports, actions (their querysets come from the changelist), autocomplete and
the change/history/delete pages all start from; it also narrows location choices in
list filters and forms, and answers 404 (not the admin's "perhaps it was deleted"
redirect) for an object outside the user's locations.
"""

from __future__ import annotations

from django.contrib import admin
from django.contrib.admin.utils import get_fields_from_path
from django.core.exceptions import FieldDoesNotExist
from django.http import Http404

from accounts.scoping import (
    location_ids_for,
    scope_by_colleagues,
    scope_orders,
    scope_to_locations,
)


def _is_location(model) -> bool:
    return model is not None and model._meta.label == "inventory.Location"


class ScopedLocationListFilter(admin.RelatedFieldListFilter):
    """A location filter offering only the user's locations: links for a few, one drop-down
    for many (a network's 200 links, each with its own query string, were a fifth of the
    stock list's time)."""

    template = "admin/location_filter.html"
    links_up_to = 12

    def field_choices(self, field, request, model_admin):
        choices = super().field_choices(field, request, model_admin)
        ids = location_ids_for(request.user)
        if ids is None:
            return choices
        return [(pk, label) for pk, label in choices if pk in ids]

    def choices(self, changelist):
        self.as_select = len(self.lookup_choices) > self.links_up_to
        if not self.as_select:
            yield from super().choices(changelist)
            return
        # The drop-down's form keeps the list's other filters, its search and its order.
        own = {self.lookup_kwarg, self.lookup_kwarg_isnull}
        self.kept = [
            (name, value)
            for name, values in changelist.filter_params.items()
            if name not in own
            for value in values
        ]
        for pk, label in self.lookup_choices:
            yield {
                "value": str(pk),
                "display": label,
                "selected": self.lookup_val is not None and str(pk) in self.lookup_val,
            }


class ScopedRelatedListFilter(admin.RelatedFieldListFilter):
    """A filter on a location-bound relation (a delivery's subscription) offering only the
    rows the user's locations see (the related admin's own scoping)."""

    def field_choices(self, field, request, model_admin):
        related_admin = model_admin.admin_site._registry.get(field.related_model)
        if location_ids_for(request.user) is None or related_admin is None:
            return super().field_choices(field, request, model_admin)
        visible = related_admin.get_queryset(request).values("pk")
        ordering = self.field_admin_ordering(field, request, model_admin)
        return field.get_choices(
            include_blank=False, ordering=ordering, limit_choices_to={"pk__in": visible}
        )


class LocationScopedAdmin:
    """Mix into a ModelAdmin (before it) whose rows belong to a location at `location_path`."""

    location_path = "location"

    def scope_queryset(self, request, queryset):
        return scope_to_locations(queryset, request.user, self.location_path)

    def get_queryset(self, request):
        return self.scope_queryset(request, super().get_queryset(request))

    def get_list_filter(self, request):
        return [self._scoped_filter(entry) for entry in super().get_list_filter(request)]

    def _scoped_filter(self, entry):
        if isinstance(entry, str):
            path = entry
        elif isinstance(entry, tuple) and isinstance(entry[0], str):
            path = entry[0]
        else:
            return entry
        try:
            field = get_fields_from_path(self.model, path)[-1]
        except (FieldDoesNotExist, LookupError):
            return entry
        if field.is_relation and _is_location(field.related_model):
            return (path, ScopedLocationListFilter)
        related_admin = self.admin_site._registry.get(field.related_model)
        if field.is_relation and isinstance(related_admin, LocationScopedAdmin):
            return (path, ScopedRelatedListFilter)
        return entry

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        ids = location_ids_for(request.user)
        if ids is not None and _is_location(db_field.related_model):
            kwargs["queryset"] = db_field.related_model.objects.filter(pk__in=ids)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def _get_obj_does_not_exist_redirect(self, request, opts, object_id):
        # Another location's object is not there for this user: the same 404 as a missing one.
        raise Http404(f"No {opts.verbose_name} with id {object_id!r}.")


class OrderScopedAdmin(LocationScopedAdmin):
    """Orders (or rows of an order at `order_prefix`) that the user's locations work on."""

    order_prefix = ""

    def scope_queryset(self, request, queryset):
        return scope_orders(queryset, request.user, self.order_prefix)


class ColleagueScopedAdmin(LocationScopedAdmin):
    """Rows written by a person (count imports): those of people of the user's locations."""

    actor_path = "actor"

    def scope_queryset(self, request, queryset):
        return scope_by_colleagues(queryset, request.user, self.actor_path)
