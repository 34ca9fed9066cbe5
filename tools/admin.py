from django.contrib import admin

from tools.models import Tool


class ReadOnlyAdmin(admin.ModelAdmin):
    """Visible to staff, changeable by nobody here yet."""

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Tool)
class ToolAdmin(ReadOnlyAdmin):
    list_display = [
        "name",
        "category",
        "enabled",
        "requires_admin",
        "inline_ticket_limit",
        "background_ticket_limit",
    ]
