"""Inventory endpoints under /api/v1/ (docs/api.md "Catalogue and network", "Stock")."""

from django.urls import path

from inventory.api import views
from inventory.api.counts import StockCountView

urlpatterns = [
    path("products/", views.ProductListView.as_view(), name="products"),
    # <path:> so that a SKU with a slash in it still has a URL.
    path("products/<path:sku>/", views.ProductDetailView.as_view(), name="product-detail"),
    path("locations/", views.LocationListView.as_view(), name="locations"),
    path("locations/<str:code>/", views.LocationDetailView.as_view(), name="location-detail"),
    path("stock/", views.StockListView.as_view(), name="stock"),
    path("stock/movements/", views.StockMovementView.as_view(), name="stock-movements"),
    path("stock/counts/", StockCountView.as_view(), name="stock-counts"),
    path("availability/", views.AvailabilityView.as_view(), name="availability"),
]
