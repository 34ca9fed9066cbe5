from django.urls import path

from jobs import views

app_name = "jobs"

urlpatterns = [
    path("", views.job_list, name="list"),
    path("<int:pk>/", views.job_detail, name="detail"),
    path("<int:pk>/cancel/", views.job_cancel_view, name="cancel"),
    path("<int:pk>/retry/", views.job_retry_view, name="retry"),
    path("<int:pk>/export.csv", views.job_export, {"kind": "csv"}, name="export_csv"),
    path(
        "<int:pk>/export.json",
        views.job_export,
        {"kind": "json"},
        name="export_json",
    ),
]
