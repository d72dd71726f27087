"""The storefront pages of the console (/console/connectors/)."""

from django.urls import path

from connectors.console import views

app_name = "connectors_console"
urlpatterns = [
    path("to-fix/", views.to_fix_list, name="to-fix"),
    path("to-fix/<int:pk>/", views.to_fix_detail, name="to-fix-detail"),
    path("to-fix/<int:pk>/replay/", views.to_fix_replay, name="to-fix-replay"),
]
