"""Talking to the Zendesk Support API."""

from zendesk.client import TicketSummary, ZendeskClient
from zendesk.errors import (
    AuthenticationError,
    BadRequestError,
    ConfigurationError,
    InvalidSearchError,
    NotFoundError,
    ServerError,
    TooManyJobsError,
    ZendeskError,
)

__all__ = [
    "AuthenticationError",
    "BadRequestError",
    "ConfigurationError",
    "InvalidSearchError",
    "NotFoundError",
    "ServerError",
    "TicketSummary",
    "TooManyJobsError",
    "ZendeskClient",
    "ZendeskError",
]
