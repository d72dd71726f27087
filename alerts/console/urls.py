"""The alerts page of the console (/console/alerts/)."""

from django.urls import path

from alerts.console import views

app_name = "alerts_console"
urlpatterns = [
    path("", views.alert_list, name="list"),
    path("bulk/", views.alert_bulk, name="bulk"),
    path("<int:pk>/<slug:action>/", views.alert_action, name="action"),
]
