"""Calling the sandbox's API through Django's test client, and a clock the
tests can move."""

import base64
import json
from datetime import UTC, datetime, timedelta

from django.test import Client

API = "/sandbox/api/v2"
EMAIL = "agent@example.com"
API_TOKEN = "sandbox-test-token"


def basic(username: str, password: str) -> str:
    pair = f"{username}:{password}".encode()
    return "Basic " + base64.b64encode(pair).decode()


GOOD_BASIC = basic(f"{EMAIL}/token", API_TOKEN)


class Api:
    """The test client with the sandbox's API token on every request."""

    def __init__(self, client: Client) -> None:
        self.client = client

    def get(self, path: str, params: dict | None = None):
        url = path if path.startswith("http") else f"{API}/{path}"
        return self.client.get(url, params or {}, HTTP_AUTHORIZATION=GOOD_BASIC)

    def put(self, path: str, body: dict):
        return self.client.put(
            f"{API}/{path}",
            json.dumps(body),
            content_type="application/json",
            HTTP_AUTHORIZATION=GOOD_BASIC,
        )

    def update_many(self, ids, ticket: dict):
        ids_text = ",".join(str(pk) for pk in ids)
        return self.put(f"tickets/update_many.json?ids={ids_text}", {"ticket": ticket})

    def add_tags(self, ids, tags: list[str]):
        return self.update_many(ids, {"additional_tags": tags})


class Clock:
    """Stands in for `timezone.now`; moves only when told to."""

    def __init__(self) -> None:
        # Half-way through a minute, so a rate-limit window has room both sides.
        self.now = datetime(2026, 3, 2, 10, 0, 30, tzinfo=UTC)

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)
