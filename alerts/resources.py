"""django-import-export resources for alert thresholds: mapping only (writes: services).

A CSV of `sku,location,threshold,lead_time_days`; a blank sku or location makes a default
rule (every product, every location). The same (sku, location) again replaces its figures.
"""

from __future__ import annotations

from import_export import fields, resources, widgets

from alerts.models import StockRule
from alerts.services import stock_rule_save
from inventory.models import Location, Product


class StockRuleResource(resources.ModelResource):
    sku = fields.Field(
        attribute="product", column_name="sku", widget=widgets.ForeignKeyWidget(Product, "sku")
    )
    location = fields.Field(
        attribute="location",
        column_name="location",
        widget=widgets.ForeignKeyWidget(Location, "code"),
    )

    class Meta:
        model = StockRule
        fields = ("sku", "location", "threshold", "lead_time_days")
        import_id_fields = ("sku", "location")
        clean_model_instances = True
        skip_unchanged = True
        report_skipped = True

    def do_instance_save(self, instance: StockRule, is_create: bool) -> None:
        stock_rule_save(rule=instance)

    def dehydrate_sku(self, rule: StockRule) -> str:
        return rule.product.sku if rule.product_id else ""

    def dehydrate_location(self, rule: StockRule) -> str:
        return rule.location.code if rule.location_id else ""
