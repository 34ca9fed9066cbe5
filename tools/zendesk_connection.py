"""The Zendesk connection as configured, and a quick test of it.

Nothing here ever returns a token, not even part of one: the admin page shows
what these functions return.
"""

import logging
from dataclasses import dataclass
from urllib.parse import urlsplit

import requests
from django.conf import settings

from zendesk import (
    AuthenticationError,
    ConfigurationError,
    ServerError,
    ZendeskClient,
    ZendeskError,
)

logger = logging.getLogger(__name__)

# A person is waiting on the page: fail fast rather than retry.
CONNECT_TIMEOUT_SECONDS = 3.0
READ_TIMEOUT_SECONDS = 10.0
RATE_LIMIT_WAIT_SECONDS = 5.0

SUCCESS = "success"
BAD_CREDENTIALS = "bad_credentials"
UNREACHABLE = "unreachable"
NOT_CONFIGURED = "not_configured"
OTHER_ERROR = "error"


@dataclass(frozen=True)
class ConfiguredConnection:
    url: str
    is_sandbox: bool
    auth_method: str
    email: str

    @property
    def account(self) -> str:
        if self.is_sandbox:
            return f"the built-in sandbox ({self.url})"
        return self.url or "none configured"


@dataclass(frozen=True)
class ConnectionCheck:
    outcome: str
    message: str

    @property
    def succeeded(self) -> bool:
        return self.outcome == SUCCESS


def configured_connection() -> ConfiguredConnection:
    url = settings.ZENDESK_URL
    if settings.ZENDESK_OAUTH_TOKEN:
        method, email = "OAuth token", ""
    elif settings.ZENDESK_EMAIL and settings.ZENDESK_API_TOKEN:
        method, email = "email and API token", settings.ZENDESK_EMAIL
    else:
        method, email = "none configured", ""
    return ConfiguredConnection(
        url=url, is_sandbox=_is_sandbox(url), auth_method=method, email=email
    )


def check_connection() -> ConnectionCheck:
    """Ask Zendesk who the configured credentials belong to, and say in
    words how that went."""
    account = configured_connection().account
    try:
        with _quick_client() as client:
            user = client.current_user()
    except ZendeskError as error:
        check = _failed_check(error, account)
    else:
        check = _user_check(user, account)

    logger.info("Zendesk connection test: %s", check.outcome)
    return check


def _quick_client() -> ZendeskClient:
    return ZendeskClient.from_settings(
        connect_timeout=CONNECT_TIMEOUT_SECONDS,
        read_timeout=READ_TIMEOUT_SECONDS,
        max_retries=0,
        rate_limit_wait_seconds=RATE_LIMIT_WAIT_SECONDS,
    )


def _user_check(user: dict, account: str) -> ConnectionCheck:
    # Zendesk answers users/me without credentials it accepts as an
    # anonymous user with no id, rather than with a 401.
    if not user.get("id"):
        return ConnectionCheck(
            BAD_CREDENTIALS,
            f"Reached {account}, but it did not accept the credentials: it "
            "answered as an anonymous user.",
        )

    who = user.get("name") or "an unnamed user"
    if user.get("email"):
        who = f"{who} <{user['email']}>"
    role = f", role {user['role']}" if user.get("role") else ""
    return ConnectionCheck(SUCCESS, f"Connected to {account} as {who}{role}.")


def _failed_check(error: ZendeskError, account: str) -> ConnectionCheck:
    if isinstance(error, ConfigurationError):
        return ConnectionCheck(
            NOT_CONFIGURED, f"The connection is not configured: {error.message}."
        )
    if isinstance(error, AuthenticationError):
        return ConnectionCheck(
            BAD_CREDENTIALS,
            f"Reached {account}, but it refused the credentials "
            f"(HTTP {error.status_code}: {error.message}). Check the token and "
            "the email address.",
        )
    if isinstance(error, ServerError) and _is_network_failure(error):
        return ConnectionCheck(
            UNREACHABLE,
            f"Could not reach {account}: {_network_failure_words(error)}. Check "
            "the URL and that this server can connect to it.",
        )
    return ConnectionCheck(
        OTHER_ERROR, f"{account} answered, but with an error: {error.message}."
    )


def _is_network_failure(error: ServerError) -> bool:
    return isinstance(error.__cause__, requests.ConnectionError | requests.Timeout)


def _network_failure_words(error: ServerError) -> str:
    if isinstance(error.__cause__, requests.Timeout):
        return "it did not answer in time"
    return "the connection failed"


def _is_sandbox(url: str) -> bool:
    return settings.SANDBOX_ENABLED and urlsplit(url).path.rstrip("/") == "/sandbox"
