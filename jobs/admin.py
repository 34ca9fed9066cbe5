from django.contrib import admin

from jobs.models import Job
from tools.admin import ReadOnlyAdmin


@admin.register(Job)
class JobAdmin(ReadOnlyAdmin):
    list_display = [
        "id",
        "tool",
        "status",
        "dry_run",
        "processed",
        "total",
        "failed",
        "created_by",
        "created_at",
    ]
    list_filter = ["status", "tool", "dry_run"]
    list_select_related = ["tool", "created_by"]
