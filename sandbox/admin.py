"""The fault modes, switched at run time by superusers (see fault_modes.py)."""

from django.contrib import admin
from django.http import HttpRequest
from django.shortcuts import redirect

from .fault_modes import row_initial_from_settings
from .models import FaultModes


@admin.register(FaultModes)
class FaultModesAdmin(admin.ModelAdmin):
    """One row at most: adding it replaces the SANDBOX_FAULT_* settings,
    deleting it brings them back. Only superusers may see or change it, since
    it breaks the sandbox for everyone using it."""

    list_display = [
        "__str__",
        "throttle_rate",
        "server_error_rate",
        "delay_seconds",
        "job_fail_rate",
        "job_stuck_rate",
        "job_vanish_rate",
        "too_many_jobs",
        "ticket_fail_rate",
        "active_until",
    ]
    fieldsets = [
        ("Every API call", {"fields": ["throttle_rate", "retry_after_seconds"]}),
        (None, {"fields": ["server_error_rate", "delay_seconds", "delay_paths"]}),
        (
            "update_many jobs",
            {
                "fields": [
                    "job_fail_rate",
                    "job_stuck_rate",
                    "job_vanish_rate",
                    "too_many_jobs",
                    "ticket_fail_rate",
                ]
            },
        ),
        ("Repeatability and duration", {"fields": ["seed", "active_until"]}),
    ]

    def get_changeform_initial_data(self, request: HttpRequest) -> dict:
        # A new row starts from what is in force now, so saving it unchanged
        # changes nothing.
        return row_initial_from_settings()

    def has_module_permission(self, request: HttpRequest) -> bool:
        return request.user.is_superuser

    def has_view_permission(self, request: HttpRequest, obj=None) -> bool:
        return request.user.is_superuser

    def has_add_permission(self, request: HttpRequest) -> bool:
        # No query here: every admin page's menu asks, and most pages have
        # nothing to do with the sandbox's database.
        return request.user.is_superuser

    def add_view(self, request: HttpRequest, form_url="", extra_context=None):
        """With the row already there, adding means changing it."""
        if FaultModes.objects.exists():
            return redirect("admin:sandbox_faultmodes_change", 1)
        return super().add_view(request, form_url, extra_context)

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return request.user.is_superuser

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return request.user.is_superuser
