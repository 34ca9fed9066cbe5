"""Zendesk's two ways of paging: offset (page=N) and cursor (page[after]=...)."""

import base64
import binascii
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from django.db.models import QuerySet
from django.http import HttpRequest

from .responses import ApiError

MAX_PAGE_SIZE = 100


@dataclass(frozen=True)
class OffsetPage:
    number: int
    size: int

    @property
    def start(self) -> int:
        return (self.number - 1) * self.size


def offset_page(request: HttpRequest) -> OffsetPage:
    """Read page and per_page; per_page is capped at 100 as Zendesk does."""
    number = _positive_int(request.GET.get("page", "1"), "page")
    size = _positive_int(request.GET.get("per_page", str(MAX_PAGE_SIZE)), "per_page")
    return OffsetPage(number=number, size=min(size, MAX_PAGE_SIZE))


def offset_links(request: HttpRequest, page: OffsetPage, count: int) -> dict:
    # Filters such as ?active=true must survive into the next page's link.
    kept = {
        name: value
        for name, value in request.GET.items()
        if name not in ("page", "per_page")
    }

    def link(number: int) -> str:
        query = urlencode({**kept, "page": number, "per_page": page.size})
        return request.build_absolute_uri(f"{request.path}?{query}")

    has_next = page.start + page.size < count
    return {
        "next_page": link(page.number + 1) if has_next else None,
        "previous_page": link(page.number - 1) if page.number > 1 else None,
    }


def offset_listing(
    request: HttpRequest,
    queryset: QuerySet,
    key: str,
    payload: Callable[[HttpRequest, Any], dict],
) -> dict:
    """One offset page of `queryset` the way Zendesk lists it: the rows under
    `key`, then next_page, previous_page and count."""
    page = offset_page(request)
    count = queryset.count()

    rows = queryset[page.start : page.start + page.size]
    return {
        key: [payload(request, row) for row in rows],
        **offset_links(request, page, count),
        "count": count,
    }


@dataclass(frozen=True)
class CursorPage:
    rows: list
    has_more: bool
    size: int
    backwards: bool
    from_cursor: bool

    def meta(self) -> dict:
        return {
            "has_more": self.has_more,
            "after_cursor": encode_cursor(self.rows[-1].pk) if self.rows else None,
            "before_cursor": encode_cursor(self.rows[0].pk) if self.rows else None,
        }

    def links(self, request: HttpRequest) -> dict:
        meta = self.meta()
        more_next = self.has_more if not self.backwards else bool(self.rows)
        more_prev = self.has_more if self.backwards else self.from_cursor
        return {
            "next": self._link(request, "after", meta["after_cursor"], more_next),
            "prev": self._link(request, "before", meta["before_cursor"], more_prev),
        }

    def _link(self, request, direction, cursor, wanted) -> str | None:
        if not (wanted and cursor):
            return None
        # Other parameters, such as sort_order, carry over to the next page.
        kept = {
            name: value
            for name, value in request.GET.items()
            if not name.startswith("page[")
        }
        page = {"page[size]": self.size, f"page[{direction}]": cursor}
        query = urlencode({**kept, **page})
        return request.build_absolute_uri(f"{request.path}?{query}")


def cursor_page(
    request: HttpRequest, queryset: QuerySet, *, descending: bool = False
) -> CursorPage:
    """One page of `queryset` in id order (newest first when `descending`),
    after or before an opaque cursor."""
    raw_size = request.GET.get("page[size]", str(MAX_PAGE_SIZE))
    size = _positive_int(raw_size, "page[size]")
    if size > MAX_PAGE_SIZE:
        raise _pagination_error(f"page[size] must be {MAX_PAGE_SIZE} or less")

    later, earlier = ("lt", "gt") if descending else ("gt", "lt")
    order, reverse_order = ("-pk", "pk") if descending else ("pk", "-pk")
    after = request.GET.get("page[after]")
    before = request.GET.get("page[before]")
    if before and not after:
        cursor = decode_cursor(before)
        earlier_rows = queryset.filter(**{f"pk__{earlier}": cursor})
        rows = list(earlier_rows.order_by(reverse_order)[: size + 1])
        return CursorPage(
            rows=rows[:size][::-1],
            has_more=len(rows) > size,
            size=size,
            backwards=True,
            from_cursor=True,
        )

    if after:
        queryset = queryset.filter(**{f"pk__{later}": decode_cursor(after)})
    rows = list(queryset.order_by(order)[: size + 1])
    return CursorPage(
        rows=rows[:size],
        has_more=len(rows) > size,
        size=size,
        backwards=False,
        from_cursor=bool(after),
    )


def encode_cursor(pk: int) -> str:
    return base64.urlsafe_b64encode(f"id:{pk}".encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> int:
    padded = cursor + "=" * (-len(cursor) % 4)
    try:
        kind, _, value = base64.urlsafe_b64decode(padded).decode().partition(":")
        if kind == "id" and is_whole_number(value):
            return int(value)
    except (binascii.Error, UnicodeDecodeError, ValueError):
        pass
    raise _pagination_error("The cursor is not valid")


def is_whole_number(raw: str) -> bool:
    return raw.isascii() and raw.isdigit()


def _positive_int(raw: str, name: str) -> int:
    if not is_whole_number(raw) or int(raw) < 1:
        raise _pagination_error(f"{name} must be a positive whole number")
    return int(raw)


def _pagination_error(description: str) -> ApiError:
    return ApiError(400, "InvalidPaginationParameter", description)
