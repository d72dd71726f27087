"""The sourcing lab's pages (/console/lab/): inventory managers and administrators."""

from django.urls import path

from lab.console import views

app_name = "lab_console"
urlpatterns = [
    path("", views.run_list, name="runs"),
    path("start/", views.run_start, name="start"),
    path("compare/", views.run_compare, name="compare"),
    path("<int:pk>/", views.run_detail, name="run"),
    path("<int:pk>/progress.json", views.run_progress_json, name="progress"),
    path("<int:pk>/orders.csv", views.run_csv, name="csv"),
]
