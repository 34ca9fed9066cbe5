"""Pages of the admin site that belong to no model."""

from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.views.decorators.http import require_http_methods

from accounts.roles import can_check_zendesk_connection
from tools.zendesk_connection import check_connection, configured_connection


@require_http_methods(["GET", "POST"])
def zendesk_connection(request: HttpRequest) -> HttpResponse:
    """Which Zendesk account and way of signing in are configured, and a
    button that tests them."""
    if not can_check_zendesk_connection(request.user):
        raise PermissionDenied

    check = check_connection() if request.method == "POST" else None
    context = {
        **admin.site.each_context(request),
        "title": "Zendesk connection",
        "connection": configured_connection(),
        "check": check,
    }
    return TemplateResponse(request, "admin/zendesk_connection.html", context)
