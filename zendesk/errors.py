"""What the Zendesk client raises, and which error an HTTP answer becomes."""

from typing import Any

import requests

from zendesk.backoff import retry_after_seconds
from zendesk.payload import json_object


class ZendeskError(Exception):
    """Base of every error the client raises."""

    def __init__(
        self,
        message: str,
        *,
        status_code: int | None = None,
        endpoint: str | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.status_code = status_code
        self.endpoint = endpoint


class ConfigurationError(ZendeskError):
    """The client cannot be built: no URL or no usable credentials."""


class AuthenticationError(ZendeskError):
    """Zendesk refused the credentials (401) or what they may do (403)."""


class NotFoundError(ZendeskError):
    """The ticket, view or job does not exist, or is hidden from this user."""


class BadRequestError(ZendeskError):
    """Any other 4xx. `message` is Zendesk's own explanation; `body` is raw."""

    def __init__(
        self,
        message: str,
        *,
        status_code: int | None = None,
        endpoint: str | None = None,
        body: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(message, status_code=status_code, endpoint=endpoint)
        self.body = body or {}


class InvalidSearchError(BadRequestError):
    """Zendesk could not run a search query; `message` says why, for people."""


class TooManyJobsError(ZendeskError):
    """The account's queue of background jobs is full.

    The client never retries this itself: only the caller knows whether it
    can afford to wait for the queued jobs (`current_job_ids`) to finish.
    """

    def __init__(
        self,
        message: str,
        *,
        current_job_ids: tuple[str, ...] = (),
        retry_after: float | None = None,
        status_code: int | None = None,
        endpoint: str | None = None,
    ) -> None:
        super().__init__(message, status_code=status_code, endpoint=endpoint)
        self.current_job_ids = current_job_ids
        self.retry_after = retry_after


class ServerError(ZendeskError):
    """Zendesk stayed unreachable, slow, overloaded or rate limited.

    Raised for 5xx, 429, timeouts and connection errors once every retry has
    been spent.
    """


def is_too_many_jobs(status_code: int, body: dict[str, Any] | None) -> bool:
    # Which status Zendesk uses for a full job queue is not documented, so
    # any client error carrying this body counts.
    if not body or not 400 <= status_code < 500:
        return False
    return body.get("error") == "TooManyJobs"


def error_for_response(response: requests.Response, endpoint: str) -> ZendeskError:
    """The error for an answer the client will not retry."""
    status = response.status_code
    body = json_object(response)
    message = zendesk_message(body) or f"HTTP {status}"

    if is_too_many_jobs(status, body):
        return _too_many_jobs(response, body or {}, message, endpoint)
    if status in (401, 403):
        return AuthenticationError(message, status_code=status, endpoint=endpoint)
    if status == 404:
        return NotFoundError(message, status_code=status, endpoint=endpoint)
    if 400 <= status < 500:
        return BadRequestError(
            message, status_code=status, endpoint=endpoint, body=body
        )
    return ZendeskError(
        f"Unexpected answer: {message}", status_code=status, endpoint=endpoint
    )


def zendesk_message(body: dict[str, Any] | None) -> str:
    """Zendesk's explanation from an error body, as one line ('' if none).

    `error` is a code such as "RecordInvalid" or, on some endpoints, an object
    with a title and message; `details` maps fields to lists of problems.
    """
    if not body:
        return ""

    error = body.get("error")
    if isinstance(error, dict):
        parts = [error.get("title"), error.get("message")]
    else:
        parts = [error]
    parts += [body.get("description"), _details_text(body.get("details"))]

    return "; ".join(str(part) for part in parts if part)


def _details_text(details: object) -> str:
    if not isinstance(details, dict):
        return str(details or "")

    problems = []
    for field, entries in details.items():
        for entry in entries if isinstance(entries, list) else [entries]:
            text = entry.get("description") if isinstance(entry, dict) else entry
            problems.append(f"{field}: {text}")
    return "; ".join(problems)


def _too_many_jobs(
    response: requests.Response,
    body: dict[str, Any],
    message: str,
    endpoint: str,
) -> TooManyJobsError:
    job_ids = body.get("current_job_ids")
    if not isinstance(job_ids, list):
        job_ids = []

    return TooManyJobsError(
        message,
        current_job_ids=tuple(str(job_id) for job_id in job_ids),
        retry_after=retry_after_seconds(response),
        status_code=response.status_code,
        endpoint=endpoint,
    )
