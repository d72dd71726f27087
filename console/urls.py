"""The console's home, work queues and background jobs, under /console/ (staff only)."""

from django.urls import path

from console.views import (
    dashboard,
    floor,
    floor_aisle,
    floor_counter,
    floor_print,
    jobs,
    queues,
    returns,
)

app_name = "oms_console"
urlpatterns = [
    path("", dashboard.dashboard, name="dashboard"),
    path("queues/<slug:slug>/", queues.queue_list, name="queue"),
    path("queues/<slug:slug>/act/", queues.queue_act, name="queue-act"),
    path("queues/<slug:slug>/export/", queues.queue_export, name="queue-export"),
    path("floor/", floor.floor, name="floor"),
    path("floor/requests/<int:pk>/refuse/", floor.floor_reject, name="floor-reject"),
    path("floor/requests/<int:pk>/<slug:action>/", floor.floor_act, name="floor-act"),
    path("floor/pick-list/", floor_print.pick_list_page, name="floor-pick-list"),
    path("floor/packing-slips/", floor_print.packing_slips_page, name="floor-packing-slips"),
    path("floor/counter/", floor_counter.counter, name="floor-counter"),
    path("floor/stock/<str:sku>/", floor_aisle.stock_nearby_page, name="floor-stock"),
    path("floor/order/", floor_aisle.aisle_order, name="floor-order"),
    path("returns/", returns.returns_queue, name="returns"),
    path("jobs/", jobs.job_list, name="jobs"),
    path("jobs/<int:pk>/", jobs.job_detail, name="job"),
    path("jobs/<int:pk>/progress.json", jobs.job_progress_json, name="job-progress"),
    path("jobs/<int:pk>/download/", jobs.job_download, name="job-download"),
]
