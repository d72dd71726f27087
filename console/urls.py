"""The console's home, work queues and background jobs, under /console/ (staff only)."""

from django.urls import path

from console.views import dashboard, jobs, queues, returns

app_name = "oms_console"
urlpatterns = [
    path("", dashboard.dashboard, name="dashboard"),
    path("queues/<slug:slug>/", queues.queue_list, name="queue"),
    path("queues/<slug:slug>/act/", queues.queue_act, name="queue-act"),
    path("queues/<slug:slug>/export/", queues.queue_export, name="queue-export"),
    path("returns/", returns.returns_queue, name="returns"),
    path("jobs/", jobs.job_list, name="jobs"),
    path("jobs/<int:pk>/", jobs.job_detail, name="job"),
    path("jobs/<int:pk>/progress.json", jobs.job_progress_json, name="job-progress"),
    path("jobs/<int:pk>/download/", jobs.job_download, name="job-download"),
]
