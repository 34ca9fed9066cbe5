from django import forms
from django.contrib import admin

from tools.models import MAX_TICKET_LIMIT, Tool


class ReadOnlyAdmin(admin.ModelAdmin):
    """Visible to staff, changeable by nobody here."""

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


class ToolForm(forms.ModelForm):
    """The settings a supervisor may change, checked against each other."""

    class Meta:
        model = Tool
        fields = [
            "enabled",
            "requires_admin",
            "inline_ticket_limit",
            "background_ticket_limit",
        ]
        help_texts = {
            "enabled": "A tool that is off disappears from the tools page, and "
            "its address says it is turned off.",
            "requires_admin": "Only supervisors and superusers may use it.",
            "inline_ticket_limit": "Runs of up to this many tickets happen while "
            "the user waits; bigger ones go to a worker.",
            "background_ticket_limit": "No job may take more tickets than this "
            f"(at most {MAX_TICKET_LIMIT:,}).",
        }

    def clean_inline_ticket_limit(self) -> int:
        return _positive(self.cleaned_data["inline_ticket_limit"])

    def clean_background_ticket_limit(self) -> int:
        limit = _positive(self.cleaned_data["background_ticket_limit"])
        if limit > MAX_TICKET_LIMIT:
            raise forms.ValidationError(
                f"The background limit can be at most {MAX_TICKET_LIMIT:,} tickets."
            )
        return limit

    def clean(self) -> dict:
        cleaned = super().clean()
        inline = cleaned.get("inline_ticket_limit")
        background = cleaned.get("background_ticket_limit")
        if inline and background and inline > background:
            self.add_error(
                "inline_ticket_limit",
                f"The inline limit ({inline:,}) cannot be above the background "
                f"limit ({background:,}): every run that fits inline must also be "
                "allowed in the background.",
            )
        return cleaned


def _positive(limit: int) -> int:
    if limit < 1:
        raise forms.ValidationError("A ticket limit must be at least 1.")
    return limit


@admin.register(Tool)
class ToolAdmin(admin.ModelAdmin):
    """Tools come from code, so rows are neither added nor deleted here; a
    supervisor changes only how each one may be used."""

    form = ToolForm
    list_display = [
        "name",
        "category",
        "enabled",
        "requires_admin",
        "inline_ticket_limit",
        "background_ticket_limit",
    ]
    list_filter = ["enabled", "requires_admin", "category"]
    fields = ["slug", *list_display]
    readonly_fields = ["slug", "name", "category"]

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False
