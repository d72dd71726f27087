"""/track/: the customer's order page (no login)."""

from django.urls import path

from orders.tracking import views

app_name = "tracking"
urlpatterns = [
    path("", views.track, name="lookup"),
    path("<str:token>/", views.track_link, name="link"),
]
