"""The sandbox's macro endpoints: listing, showing and previewing macros."""

from dataclasses import replace

from django.http import HttpRequest, JsonResponse
from django.utils import timezone

from .gateway import api_endpoint
from .macros import (
    changed_fields_payload,
    comment_preview,
    macro_changes,
    rendered_comment,
)
from .models import Macro, Ticket
from .pagination import offset_listing
from .payloads import macro_payload, ticket_payload
from .seed_account import API_USER_ID
from .shortcuts import bool_param, get_or_404
from .ticket_changes import apply_changes


@api_endpoint("GET")
def macros(request: HttpRequest) -> JsonResponse:
    rows = Macro.objects.order_by("position", "id")
    active = bool_param(request, "active")
    if active is not None:
        rows = rows.filter(active=active)
    return JsonResponse(offset_listing(request, rows, "macros", macro_payload))


@api_endpoint("GET")
def active_macros(request: HttpRequest) -> JsonResponse:
    rows = Macro.objects.filter(active=True).order_by("position", "id")
    return JsonResponse(offset_listing(request, rows, "macros", macro_payload))


@api_endpoint("GET")
def macro_detail(request: HttpRequest, macro_id: int) -> JsonResponse:
    macro = get_or_404(Macro.objects, macro_id)
    return JsonResponse({"macro": macro_payload(request, macro)})


@api_endpoint("GET")
def macro_apply(request: HttpRequest, macro_id: int) -> JsonResponse:
    """What the macro sets, with no ticket to apply it to."""
    changes = macro_changes(get_or_404(Macro.objects, macro_id))

    result: dict = {"ticket": changed_fields_payload(changes)}
    if changes.comment is not None:
        result["comment"] = comment_preview(changes.comment)
    return JsonResponse({"result": result})


@api_endpoint("GET")
def ticket_macro_apply(
    request: HttpRequest, ticket_id: int, macro_id: int
) -> JsonResponse:
    """The ticket as it would be after the macro; nothing is saved."""
    ticket = get_or_404(Ticket.objects, ticket_id)
    changes = macro_changes(get_or_404(Macro.objects, macro_id))
    if changes.comment is not None:
        comment = rendered_comment(changes.comment, ticket)
        changes = replace(changes, comment=comment)

    apply_changes(ticket, changes, author_id=API_USER_ID, now=timezone.now())
    result: dict = {"ticket": ticket_payload(request, ticket)}
    if changes.comment is not None:
        result["comment"] = comment_preview(changes.comment)
    return JsonResponse({"result": result})
