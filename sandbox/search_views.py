"""Zendesk's search endpoints over the sandbox's tickets: the export (cursor
pages, no cap on the total, oldest ticket first) and the count.

The capped `search.json` is left out on purpose: bulk tools must not use it.
"""

import base64
import binascii
from datetime import datetime

from django.db.models import Q, QuerySet
from django.http import HttpRequest, JsonResponse
from django.urls import reverse

from .gateway import api_endpoint
from .models import Ticket
from .pagination import is_whole_number
from .payloads import ticket_payload
from .responses import ApiError
from .search import SearchQueryError, search_q

# Zendesk allows up to 1,000 results a page on the export; its default is 100.
EXPORT_MAX_PAGE_SIZE = 1000
EXPORT_DEFAULT_PAGE_SIZE = 100


@api_endpoint("GET")
def search_export(request: HttpRequest) -> JsonResponse:
    _require_ticket_filter(request)
    size = _page_size(request)
    tickets = _matching_tickets(request)

    after = request.GET.get("page[after]")
    if after:
        tickets = tickets.filter(_after_q(*_decode_cursor(after)))
    rows = list(tickets.order_by("created_at", "pk")[: size + 1])
    page, has_more = rows[:size], len(rows) > size

    return JsonResponse(
        {
            "results": [_result(request, ticket) for ticket in page],
            "facets": None,
            "meta": _meta(page, has_more),
            "links": _links(request, page, has_more, size),
        }
    )


@api_endpoint("GET")
def search_count(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"count": _matching_tickets(request).count()})


def _matching_tickets(request: HttpRequest) -> QuerySet:
    try:
        return Ticket.objects.filter(search_q(request.GET.get("query", "")))
    except SearchQueryError as error:
        # Zendesk documents its search errors as {"error", "description"}
        # with codes such as "invalid"; clients report 400 or 422 for a query
        # it cannot parse. The sandbox answers 400, and the product's client
        # treats both the same.
        raise ApiError(400, "invalid", str(error)) from error


def _require_ticket_filter(request: HttpRequest) -> None:
    kind = request.GET.get("filter[type]")
    if not kind:
        raise ApiError(
            400,
            "InvalidParameter",
            "filter[type] is required: ticket, user, organization or group",
        )
    if kind != "ticket":
        raise ApiError(400, "InvalidParameter", "The sandbox exports tickets only")


def _page_size(request: HttpRequest) -> int:
    raw = request.GET.get("page[size]", str(EXPORT_DEFAULT_PAGE_SIZE))
    if not is_whole_number(raw) or not 1 <= int(raw) <= EXPORT_MAX_PAGE_SIZE:
        raise ApiError(
            400,
            "InvalidPaginationParameter",
            f"page[size] must be a whole number from 1 to {EXPORT_MAX_PAGE_SIZE}",
        )
    return int(raw)


def _result(request: HttpRequest, ticket: Ticket) -> dict:
    return {**ticket_payload(request, ticket), "result_type": "ticket"}


def _meta(page: list[Ticket], has_more: bool) -> dict:
    return {
        "has_more": has_more,
        "after_cursor": _encode_cursor(page[-1]) if page else None,
        "before_cursor": _encode_cursor(page[0]) if page else None,
    }


def _links(request: HttpRequest, page: list[Ticket], has_more: bool, size: int):
    if not (has_more and page):
        return {"prev": None, "next": None}
    query = request.GET.copy()
    query["page[size]"] = str(size)
    query["page[after]"] = _encode_cursor(page[-1])
    path = reverse("sandbox:search_export")
    return {
        "prev": None,
        "next": request.build_absolute_uri(f"{path}?{query.urlencode()}"),
    }


# The export is ordered by creation time, which tickets may share, so the
# cursor holds the id too.


def _encode_cursor(ticket: Ticket) -> str:
    text = f"{ticket.created_at.isoformat()}|{ticket.pk}"
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


def _decode_cursor(cursor: str) -> tuple[datetime, int]:
    padded = cursor + "=" * (-len(cursor) % 4)
    try:
        moment, _, pk = base64.urlsafe_b64decode(padded).decode().partition("|")
        if is_whole_number(pk):
            return datetime.fromisoformat(moment), int(pk)
    except (binascii.Error, UnicodeDecodeError, ValueError):
        pass
    raise ApiError(400, "InvalidPaginationParameter", "The cursor is not valid")


def _after_q(created_at: datetime, pk: int) -> Q:
    return Q(created_at__gt=created_at) | Q(created_at=created_at, pk__gt=pk)
