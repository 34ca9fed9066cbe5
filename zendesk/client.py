"""A small client for the parts of the Zendesk Support API that Tag Manager uses.

Plain `requests`; Django is only read by `ZendeskClient.from_settings`.
"""

import logging
import re
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import requests
from requests.structures import CaseInsensitiveDict
from urllib3.exceptions import NewConnectionError

from zendesk.arguments import (
    MAX_IDS_PER_CALL,
    batch_changes,
    joined_ids,
    tag_changes,
    ticket_changes,
)
from zendesk.backoff import backoff_delay, retry_after_seconds
from zendesk.budget import BudgetRate, RateBudget, rate_budget
from zendesk.errors import (
    BadRequestError,
    ConfigurationError,
    InvalidSearchError,
    ServerError,
    ZendeskError,
    error_for_response,
    is_too_many_jobs,
)
from zendesk.payload import json_object
from zendesk.ratelimit import header_int, inflight_jobs_remaining
from zendesk.session import auth_for, build_session

logger = logging.getLogger(__name__)

# A guard against a server that keeps offering "more"; 100,000 pages of 100
# tickets is far beyond any real view.
MAX_PAGES = 100_000

# The search export's largest page.
EXPORT_MAX_PAGE_SIZE = 1000

# A connection dropped halfway through a body is as transient as a timeout.
_TRANSIENT_ERRORS = (
    requests.Timeout,
    requests.ConnectionError,
    requests.exceptions.ChunkedEncodingError,
)

Sleep = Callable[[float], None]


# The ticket fields a tool may read or change besides status and tags.
EDITABLE_FIELDS = ("subject", "priority", "type", "group_id", "assignee_id")


@dataclass(frozen=True)
class TicketSummary:
    """The few fields of a ticket that bulk tools decide on."""

    id: int
    status: str
    tags: tuple[str, ...]
    updated_at: str
    # EDITABLE_FIELDS plus "custom_fields" ({"field id": value}). Left out of
    # equality: the id, status, tags and stamp already tell tickets apart.
    fields: dict[str, Any] = field(default_factory=dict, compare=False)

    @classmethod
    def from_api(cls, ticket: dict[str, Any]) -> "TicketSummary":
        fields = {name: ticket.get(name) for name in EDITABLE_FIELDS}
        fields["custom_fields"] = {
            str(entry["id"]): entry.get("value")
            for entry in ticket.get("custom_fields") or ()
            if isinstance(entry, dict) and "id" in entry
        }
        return cls(
            id=int(ticket["id"]),
            status=str(ticket.get("status") or ""),
            tags=tuple(ticket.get("tags") or ()),
            updated_at=str(ticket.get("updated_at") or ""),
            fields=fields,
        )


class _Transient(Exception):
    """A failed attempt worth repeating. Never leaves the client."""

    def __init__(
        self,
        detail: str,
        *,
        status_code: int | None = None,
        retry_after: float | None = None,
        never_sent: bool = False,
    ) -> None:
        super().__init__(detail)
        self.detail = detail
        self.status_code = status_code
        self.retry_after = retry_after
        # The connection was never made: Zendesk cannot have acted on it.
        self.never_sent = never_sent


class ZendeskClient:
    """One account's API, over one pooled HTTP session.

    Every call is retried here, and only here: 429 after `Retry-After`, for
    up to `rate_limit_wait_seconds` of waiting in all; 5xx, timeouts and
    dropped connections after an exponential backoff (or the server's
    `Retry-After`), `max_retries` times. Past either bound the call raises
    `ServerError`.

    With a `rate_budget`, every request, retries included, first takes its
    turn from that budget (shared by all processes using the account) and
    reports the account's remaining allowance back to it.

    The rate-limit attributes hold the values from the most recent response
    that carried each header, or None before any did.
    """

    def __init__(
        self,
        base_url: str,
        *,
        email: str = "",
        api_token: str = "",
        oauth_token: str = "",
        connect_timeout: float = 5.0,
        read_timeout: float = 60.0,
        max_retries: int = 5,
        backoff_seconds: float = 1.0,
        rate_limit_wait_seconds: float = 600.0,
        rate_budget: RateBudget | None = None,
        sleep: Sleep = time.sleep,
    ) -> None:
        if not base_url:
            raise ConfigurationError("No Zendesk URL configured")
        if urlsplit(base_url).scheme not in ("http", "https"):
            raise ConfigurationError(
                f"The Zendesk URL must start with https:// (got {base_url!r})"
            )
        if max_retries < 0:
            raise ValueError("max_retries cannot be negative")

        self.base_url = base_url.rstrip("/")
        self.max_retries = max_retries
        self.backoff_seconds = backoff_seconds
        self.rate_limit_wait_seconds = rate_limit_wait_seconds
        self.rate_limit_remaining: int | None = None
        self.rate_limit_total: int | None = None
        self.inflight_jobs_remaining: int | None = None

        self._auth_kind, auth = auth_for(email, api_token, oauth_token)
        self._session = build_session(auth)
        self._timeout = (connect_timeout, read_timeout)
        self._rate_budget = rate_budget
        self._sleep = sleep

    @classmethod
    def from_settings(cls, **overrides: Any) -> "ZendeskClient":
        """A client configured from the Django settings `ZENDESK_*`; keyword
        arguments override single options (shorter waits for a web page)."""
        from django.conf import settings

        options = {
            "email": settings.ZENDESK_EMAIL,
            "api_token": settings.ZENDESK_API_TOKEN,
            "oauth_token": settings.ZENDESK_OAUTH_TOKEN,
            "connect_timeout": settings.ZENDESK_CONNECT_TIMEOUT,
            "read_timeout": settings.ZENDESK_READ_TIMEOUT,
            "max_retries": settings.ZENDESK_MAX_RETRIES,
            "backoff_seconds": settings.ZENDESK_BACKOFF_SECONDS,
            "rate_limit_wait_seconds": settings.ZENDESK_RATE_LIMIT_WAIT_SECONDS,
            "rate_budget": _rate_budget_from(settings),
        }
        return cls(settings.ZENDESK_URL, **(options | overrides))

    def __repr__(self) -> str:
        return f"<ZendeskClient {self.base_url} auth={self._auth_kind}>"

    def close(self) -> None:
        self._session.close()

    def __enter__(self) -> "ZendeskClient":
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # Users

    def current_user(self) -> dict[str, Any]:
        """The user the credentials belong to: one cheap call that proves the
        URL, the credentials and the account together."""
        path = "users/me.json"
        return _field(self._request("GET", path), "user", path)

    # Views

    def list_active_views(self) -> list[dict[str, Any]]:
        """Every view the user can see, across all pages."""
        return list(self._offset_pages("views/active.json", "views", {}))

    def count_view(self, view_id: int) -> int | None:
        """Zendesk's cached count of a view; None while it is being computed.

        Good for display only: big views' counts can be over an hour old.
        """
        path = f"views/{int(view_id)}/count.json"
        body = self._request("GET", path)
        value = _field(body, "view_count", path).get("value")
        return None if value is None else int(value)

    def iter_view_tickets(
        self, view_id: int, *, page_size: int = 100
    ) -> Iterator[TicketSummary]:
        """Every ticket in a view, fetched page by page with cursors.

        Offset pages stop at 10,000 tickets; cursors do not.
        """
        if not 1 <= page_size <= MAX_IDS_PER_CALL:
            raise ValueError(f"page_size must be between 1 and {MAX_IDS_PER_CALL}")
        return self._view_pages(f"views/{int(view_id)}/tickets.json", page_size)

    def _view_pages(self, path: str, page_size: int) -> Iterator[TicketSummary]:
        for ticket in self._cursor_pages(path, "tickets", page_size, {}):
            yield TicketSummary.from_api(ticket)

    # Macros

    def iter_macros(self, *, active: bool | None = None) -> Iterator[dict[str, Any]]:
        """Every macro the user can see, across all pages; only active or only
        inactive ones with `active`."""
        params = {} if active is None else {"active": str(active).lower()}
        return self._offset_pages("macros.json", "macros", params)

    def get_macro(self, macro_id: int) -> dict[str, Any]:
        path = f"macros/{int(macro_id)}.json"
        return _field(self._request("GET", path), "macro", path)

    # Search

    def count_search(self, query: str) -> int:
        """How many tickets a search query finds now.

        Raises InvalidSearchError when Zendesk cannot run the query."""
        path = "search/count.json"
        # Unlike the export, the count has no filter[type]: without the
        # term it would count matching users and organisations too.
        counted = _ticket_query(query)
        if not _NAMES_A_TYPE.search(counted):
            counted = f"type:ticket {counted}"
        with _invalid_search_errors():
            body = self._request("GET", path, params={"query": counted})
        return int(_field(body, "count", path))

    def iter_search_tickets(
        self, query: str, *, page_size: int = 100
    ) -> Iterator[TicketSummary]:
        """Every ticket a search query finds, oldest first, through the export
        endpoint's cursors.

        Never the plain search endpoint: it stops at 1,000 results. Raises
        InvalidSearchError when Zendesk cannot run the query."""
        if not 1 <= page_size <= EXPORT_MAX_PAGE_SIZE:
            raise ValueError(f"page_size must be between 1 and {EXPORT_MAX_PAGE_SIZE}")
        return self._search_pages(_ticket_query(query), page_size)

    def _search_pages(self, query: str, page_size: int) -> Iterator[TicketSummary]:
        extra = {"query": query, "filter[type]": "ticket"}
        pages = self._cursor_pages("search/export.json", "results", page_size, extra)
        with _invalid_search_errors():
            for result in pages:
                yield TicketSummary.from_api(result)

    # Tickets and jobs

    def update_many_tags(
        self,
        ticket_ids: Iterable[int],
        *,
        additional_tags: Iterable[str] = (),
        remove_tags: Iterable[str] = (),
    ) -> dict[str, Any]:
        """Queue one Zendesk job that adds and/or removes tags on up to 100
        tickets, leaving their other tags alone. Returns the `job_status`.

        The body is built from the two tag lists only. `tags` would replace
        each ticket's whole list and lose tags agents add meanwhile.
        """
        changes = tag_changes(additional_tags, remove_tags)
        return self.update_many(ticket_ids, changes)

    def update_many(
        self, ticket_ids: Iterable[int], ticket: dict[str, Any]
    ) -> dict[str, Any]:
        """Queue one Zendesk job applying the same changes to up to 100
        tickets (the bulk form). Returns the `job_status`.

        `ticket` takes update_many's fields (status, comment, macro_ids,
        additional_tags, ...) but never `tags`, which would replace each
        ticket's whole list.
        """
        ids = joined_ids(ticket_ids, convert=int)
        changes = ticket_changes(ticket)

        path = "tickets/update_many.json"
        body = self._request(
            "PUT",
            path,
            params={"ids": ids},
            json={"ticket": changes},
            repeatable="comment" not in changes,
        )
        return _field(body, "job_status", path)

    def update_many_batch(self, tickets: list[dict[str, Any]]) -> dict[str, Any]:
        """Queue one Zendesk job with a change of its own for each of up to
        100 tickets (the batch form); each dict carries its ticket's "id".
        Returns the `job_status`. `tags` is refused as in `update_many`.
        """
        path = "tickets/update_many.json"
        changes = batch_changes(tickets)
        body = self._request(
            "PUT",
            path,
            json={"tickets": changes},
            repeatable=not any("comment" in ticket for ticket in changes),
        )
        return _field(body, "job_status", path)

    def show_job_statuses(self, job_ids: Iterable[str]) -> list[dict[str, Any]]:
        """The current state of up to 100 Zendesk jobs.

        A job Zendesk no longer keeps is simply missing from the list.
        """
        path = "job_statuses/show_many.json"
        body = self._request("GET", path, params={"ids": joined_ids(job_ids)})
        return _field(body, "job_statuses", path)

    def show_tickets(self, ticket_ids: Iterable[int]) -> list[dict[str, Any]]:
        path = "tickets/show_many.json"
        ids = joined_ids(ticket_ids, convert=int)
        body = self._request("GET", path, params={"ids": ids})
        return _field(body, "tickets", path)

    def get_ticket(self, ticket_id: int) -> dict[str, Any]:
        path = f"tickets/{int(ticket_id)}.json"
        return _field(self._request("GET", path), "ticket", path)

    def iter_ticket_comments(
        self, ticket_id: int, *, newest_first: bool = False
    ) -> Iterator[dict[str, Any]]:
        """Every comment on a ticket, oldest first unless `newest_first`."""
        path = f"tickets/{int(ticket_id)}/comments.json"
        order = {"sort_order": "desc" if newest_first else "asc"}
        return self._cursor_pages(path, "comments", MAX_IDS_PER_CALL, order)

    def preview_macro(self, ticket_id: int, macro_id: int) -> dict[str, Any]:
        """The `result` of applying a macro to a ticket, which Zendesk only
        previews: the whole ticket as it would be, and the comment it would
        add with its placeholders filled in. Nothing is saved."""
        path = f"tickets/{int(ticket_id)}/macros/{int(macro_id)}/apply.json"
        return _field(self._request("GET", path), "result", path)

    # Account set-up

    def list_ticket_fields(self) -> list[dict[str, Any]]:
        path = "ticket_fields.json"
        return _field(self._request("GET", path), "ticket_fields", path)

    def list_groups(self) -> list[dict[str, Any]]:
        return list(self._offset_pages("groups.json", "groups", {}))

    # Paging

    def _offset_pages(
        self, path: str, key: str, params: dict[str, str]
    ) -> Iterator[dict[str, Any]]:
        """The rows under `key` of every offset page, following next_page."""
        for _ in range(MAX_PAGES):
            body = self._request("GET", path, params=params or None)
            yield from _field(body, key, path)

            next_page = body.get("next_page")
            if not next_page:
                return
            params = _next_page_params(next_page, params, path)

        raise ZendeskError(f"More than {MAX_PAGES} pages", endpoint=_endpoint(path))

    def _cursor_pages(
        self, path: str, key: str, page_size: int, extra: dict[str, str]
    ) -> Iterator[dict[str, Any]]:
        """The rows under `key` of every cursor page, until has_more is false."""
        params: dict[str, Any] = {**extra, "page[size]": page_size}

        for _ in range(MAX_PAGES):
            body = self._request("GET", path, params=params)
            yield from _field(body, key, path)

            meta = body.get("meta") or {}
            cursor = meta.get("after_cursor")
            if not meta.get("has_more") or not cursor:
                return
            if cursor == params.get("page[after]"):
                raise ZendeskError("The cursor did not move", endpoint=_endpoint(path))
            params = {**extra, "page[size]": page_size, "page[after]": cursor}

        raise ZendeskError(f"More than {MAX_PAGES} pages", endpoint=_endpoint(path))

    # Transport

    def _request(
        self,
        method: str,
        path: str,
        params: dict[str, Any] | None = None,
        json: dict[str, Any] | None = None,
        *,
        repeatable: bool = True,
    ) -> dict[str, Any]:
        """Send one API call, retrying what is worth retrying.

        Retrying a PUT update_many after a timeout or a 5xx may queue a second
        Zendesk job for the same tickets. Adding or removing tags twice
        changes nothing more; adding a comment twice does, so a call that is
        not `repeatable` is tried again only after a 429, which Zendesk
        answers without doing anything, or when no connection was made;
        otherwise it raises ServerError for the caller to find out from the
        tickets what happened.
        """
        endpoint = _endpoint(path)
        failures = 0
        rate_limited_for = 0.0

        while True:
            try:
                return self._send(method, endpoint, params, json)
            except _Transient as failure:
                if failure.status_code == 429:
                    wait = self._rate_limit_wait(failure, rate_limited_for, endpoint)
                    rate_limited_for += wait
                elif not repeatable and not failure.never_sent:
                    raise ServerError(
                        f"no answer, and not sent again: {failure.detail}",
                        status_code=failure.status_code,
                        endpoint=endpoint,
                    ) from failure.__cause__
                else:
                    wait = self._failure_wait(failure, failures, endpoint)
                    failures += 1
                self._log_retry(method, endpoint, failure, wait)
                self._sleep(wait)

    def _rate_limit_wait(
        self, failure: "_Transient", waited: float, endpoint: str
    ) -> float:
        """How long to wait after a 429. Rate limits are the account's normal
        back-pressure, shared with the agents working in Zendesk, so they get
        a budget of waiting time rather than a few attempts."""
        # A missing or zero Retry-After still waits a backoff step, so the
        # budget is spent and the loop ends.
        wait = failure.retry_after or backoff_delay(0, self.backoff_seconds)
        if waited + wait > self.rate_limit_wait_seconds:
            raise ServerError(
                f"still rate limited after waiting {waited:.0f} s: {failure.detail}",
                status_code=failure.status_code,
                endpoint=endpoint,
            ) from failure.__cause__
        return wait

    def _failure_wait(
        self, failure: "_Transient", failures: int, endpoint: str
    ) -> float:
        """How long to wait after a 5xx, a timeout or a dropped connection."""
        if failures >= self.max_retries:
            raise ServerError(
                f"still failing after {failures + 1} attempts: {failure.detail}",
                status_code=failure.status_code,
                endpoint=endpoint,
            ) from failure.__cause__
        if failure.retry_after is not None:
            return failure.retry_after
        return backoff_delay(failures, self.backoff_seconds)

    def _send(
        self,
        method: str,
        endpoint: str,
        params: dict[str, Any] | None,
        json: dict[str, Any] | None,
    ) -> dict[str, Any]:
        self._wait_for_budget(method, endpoint)
        try:
            response = self._session.request(
                method,
                self.base_url + endpoint,
                params=params,
                json=json,
                timeout=self._timeout,
            )
        except _TRANSIENT_ERRORS as error:
            raise _Transient(
                type(error).__name__, never_sent=_never_connected(error)
            ) from error
        except requests.RequestException as error:
            # A request that cannot even be sent (a malformed URL, say) will
            # not get better by trying again.
            raise ZendeskError(
                f"The request could not be sent: {type(error).__name__}",
                endpoint=endpoint,
            ) from error

        self._remember_rate_limits(response.headers)
        self._report_rate_limits(response.headers)
        if response.status_code < 400:
            return _success_body(response, endpoint)

        _raise_if_transient(response)
        raise error_for_response(response, endpoint)

    def _wait_for_budget(self, method: str, endpoint: str) -> None:
        if self._rate_budget is None:
            return

        # Bounded like the waits for 429s: the budget refuses a turn further
        # away than that, rather than parking the call.
        wait = self._rate_budget.reserve(self.rate_limit_wait_seconds)
        if wait is None:
            raise ServerError(
                "The shared rate budget has no room within "
                f"{self.rate_limit_wait_seconds:.0f} s",
                endpoint=endpoint,
            )
        if wait > 0:
            level = logging.INFO if wait >= 1 else logging.DEBUG
            logger.log(
                level,
                "Zendesk %s %s waits %.2f s for the rate budget",
                method,
                endpoint,
                wait,
            )
            self._sleep(wait)

    def _report_rate_limits(self, headers: CaseInsensitiveDict[str]) -> None:
        remaining = header_int(headers, "X-Rate-Limit-Remaining")
        total = header_int(headers, "X-Rate-Limit")
        if self._rate_budget is None or remaining is None or total is None:
            return
        self._rate_budget.note_remaining(remaining, total)

    def _log_retry(
        self, method: str, endpoint: str, failure: "_Transient", wait: float
    ) -> None:
        logger.warning(
            "Zendesk %s %s failed (%s); retrying in %.2f s",
            method,
            endpoint,
            failure.detail,
            wait,
        )

    def _remember_rate_limits(self, headers: CaseInsensitiveDict[str]) -> None:
        # Not every endpoint sends every header, so a missing one keeps the
        # last value seen rather than wiping it.
        remaining = header_int(headers, "X-Rate-Limit-Remaining")
        total = header_int(headers, "X-Rate-Limit")
        inflight = inflight_jobs_remaining(headers)

        if remaining is not None:
            self.rate_limit_remaining = remaining
        if total is not None:
            self.rate_limit_total = total
        if inflight is not None:
            self.inflight_jobs_remaining = inflight


def _rate_budget_from(settings: Any) -> RateBudget:
    """The budget shared through the Redis that carries the job queue."""
    queue = settings.RQ_QUEUES["default"]
    rate = BudgetRate.share_of(
        settings.ZENDESK_RATE_LIMIT_PER_MINUTE, settings.ZENDESK_RATE_BUDGET_PERCENT
    )
    return rate_budget(
        queue.get("URL") or settings.REDIS_URL, settings.ZENDESK_URL, rate
    )


@contextmanager
def _invalid_search_errors() -> Iterator[None]:
    """Zendesk refuses a query it cannot parse with a 400 or a 422; tell
    that apart from other failures so a form can show the reason."""
    try:
        yield
    except BadRequestError as error:
        if error.status_code not in (400, 422):
            raise
        # The description alone reads as a sentence; the code adds nothing.
        description = error.body.get("description")
        raise InvalidSearchError(
            description if isinstance(description, str) else error.message,
            status_code=error.status_code,
            endpoint=error.endpoint,
            body=error.body,
        ) from error


_NAMES_A_TYPE = re.compile(r"(^|\s)-?type:", re.IGNORECASE)


def _ticket_query(query: str) -> str:
    """The query, stripped; the export also needs filter[type], which
    _search_pages adds, so `type:ticket` is not required in the text."""
    query = query.strip()
    if not query:
        raise InvalidSearchError("The search query is empty.")
    return query


def _never_connected(error: requests.RequestException) -> bool:
    """Whether the request failed before a connection was made (refused,
    unresolvable, or timed out while connecting), so nothing was sent."""
    if isinstance(error, requests.ConnectTimeout):
        return True
    reason = getattr(error.args[0], "reason", None) if error.args else None
    return isinstance(reason, NewConnectionError)


def _endpoint(path: str) -> str:
    return f"/api/v2/{path}"


def _raise_if_transient(response: requests.Response) -> None:
    status = response.status_code
    if status >= 500:
        raise _Transient(
            f"HTTP {status}",
            status_code=status,
            retry_after=retry_after_seconds(response),
        )

    # A 429 is a plain rate limit unless its body says the job queue is full,
    # which the caller handles. The body is often HTML: parse it carefully.
    if status == 429 and not is_too_many_jobs(status, json_object(response)):
        raise _Transient(
            "HTTP 429",
            status_code=status,
            retry_after=retry_after_seconds(response),
        )


def _success_body(response: requests.Response, endpoint: str) -> dict[str, Any]:
    if not response.content:
        return {}

    body = json_object(response)
    if body is None:
        raise ZendeskError(
            "Expected a JSON object in the answer",
            status_code=response.status_code,
            endpoint=endpoint,
        )
    return body


def _field(body: dict[str, Any], key: str, path: str) -> Any:
    if key not in body:
        raise ZendeskError(f"The answer has no '{key}'", endpoint=_endpoint(path))
    return body[key]


def _next_page_params(
    next_page: str, current: dict[str, str], path: str
) -> dict[str, str]:
    # Only the query of `next_page` is used, against our own base URL, so
    # credentials go nowhere else even if Zendesk names another host.
    params = dict(parse_qsl(urlsplit(next_page).query))
    if params == current:
        raise ZendeskError("next_page did not move on", endpoint=_endpoint(path))
    return params
