"""/track/<signed link>/return/: the customer's returns, beside the tracking page."""

from django.urls import path

from returns.customer import views

app_name = "customer_returns"
urlpatterns = [
    path("<str:token>/return/", views.return_start, name="start"),
    path("<str:token>/returns/<str:number>/", views.return_slip, name="slip"),
]
