"""Zendesk's two ways in: an API token over HTTP Basic, or an OAuth bearer."""

import base64
import binascii
import secrets

from django.conf import settings
from django.http import HttpRequest


def is_authenticated(request: HttpRequest) -> bool:
    scheme, _, credentials = request.headers.get("Authorization", "").partition(" ")
    scheme = scheme.lower()
    if scheme == "bearer":
        return _same_secret(credentials.strip(), settings.ZENDESK_OAUTH_TOKEN)
    if scheme == "basic":
        return _basic_matches(credentials.strip())
    return False


def _basic_matches(encoded: str) -> bool:
    try:
        decoded = base64.b64decode(encoded, validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return False

    username, _, password = decoded.partition(":")
    email = settings.ZENDESK_EMAIL
    # Zendesk's API-token login is "{email}/token"; emails ignore case.
    expected_username = f"{email}/token".lower() if email else ""

    user_ok = _same_secret(username.lower(), expected_username)
    password_ok = _same_secret(password, settings.ZENDESK_API_TOKEN)
    return user_ok and password_ok


def _same_secret(given: str, expected: str) -> bool:
    """Constant-time comparison; an unset secret never matches anything."""
    if not expected:
        return False
    return secrets.compare_digest(given.encode(), expected.encode())
