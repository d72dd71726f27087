"""Server-rendered staff pages for inventory, under /console/ (staff only)."""

from django.urls import path

from inventory.console import views

app_name = "console"
urlpatterns = [
    path("products/<str:sku>/stock/", views.product_stock, name="product-stock"),
    path("count-imports/<int:pk>/", views.count_import_detail, name="count-import"),
    path(
        "count-imports/<int:pk>/progress.json",
        views.count_import_progress_json,
        name="count-import-progress",
    ),
    path(
        "count-imports/<int:pk>/confirm/", views.count_import_confirm, name="count-import-confirm"
    ),
    path("count-imports/<int:pk>/cancel/", views.count_import_cancel, name="count-import-cancel"),
]
