"""The sandbox's search export and count, and the client reading them, over
real HTTP."""

from datetime import UTC, datetime
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from django.conf import settings

from sandbox.models import Ticket
from sandbox.tags import tags_to_text
from tests.sandbox_api import GOOD_BASIC
from zendesk import InvalidSearchError, ZendeskClient

pytestmark = pytest.mark.django_db(transaction=True, databases=["default", "sandbox"])


@pytest.fixture
def client(sandbox_url):
    return ZendeskClient(
        sandbox_url,
        email=settings.ZENDESK_EMAIL,
        api_token=settings.ZENDESK_API_TOKEN,
        max_retries=0,
    )


def get(sandbox_url: str, path: str, **params) -> requests.Response:
    return requests.get(
        f"{sandbox_url}/api/v2/{path}",
        params=params,
        headers={"Authorization": GOOD_BASIC},
        timeout=10,
    )


def ticket(subject="Help", status="open", tags=(), created="2026-01-10") -> int:
    moment = datetime.fromisoformat(created).replace(tzinfo=UTC)
    row = Ticket.objects.create(
        subject=subject,
        status=status,
        tags=tags_to_text(tags),
        created_at=moment,
        updated_at=moment,
    )
    return row.pk


@pytest.fixture
def tickets(sandbox_url) -> dict[str, int]:
    return {
        "refund": ticket("Refund for order 7", "open", ["billing", "vip"]),
        "login": ticket("Cannot log in", "new", ["login"], "2026-02-01"),
        "pending": ticket("Refund still missing", "pending", ["billing"]),
        "solved": ticket("Thanks, all good", "solved", ["vip"], "2025-12-31"),
        "closed": ticket("Old refund question", "closed", [], "2025-06-01"),
    }


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("refund", ["refund", "pending", "closed"]),
        ('"refund still"', ["pending"]),
        ("subject:log", ["login"]),
        ("status:open", ["refund"]),
        ("status:open status:new", ["refund", "login"]),
        ("status<solved", ["refund", "login", "pending"]),
        ("status>=solved", ["solved", "closed"]),
        ("tags:vip", ["refund", "solved"]),
        ("tag:billing -tags:vip", ["pending"]),
        ("type:ticket tags:billing status:pending", ["pending"]),
        ("refund -status:closed", ["refund", "pending"]),
        ("created>2026-01-01", ["refund", "login", "pending"]),
        ("created<2026-01-01", ["solved", "closed"]),
        ("created:2026-02-01", ["login"]),
        ("created>=2026-01-10 created<2026-02-01", ["refund", "pending"]),
        ("updated<2025-07-01", ["closed"]),
        ("nothing-like-this", []),
    ],
)
def test_the_query_language_finds_the_right_tickets(client, tickets, query, expected):
    found = [summary.id for summary in client.iter_search_tickets(query)]

    assert sorted(found) == sorted(tickets[name] for name in expected)
    assert client.count_search(query) == len(expected)


def test_a_bare_number_finds_the_ticket_with_that_id(client, tickets):
    found = [
        summary.id for summary in client.iter_search_tickets(str(tickets["login"]))
    ]

    assert found == [tickets["login"]]


def test_the_export_answers_in_zendesk_shapes(sandbox_url, tickets):
    response = get(
        sandbox_url,
        "search/export.json",
        query="refund",
        **{"filter[type]": "ticket", "page[size]": "2"},
    )

    body = response.json()
    assert response.status_code == 200
    assert [result["result_type"] for result in body["results"]] == ["ticket"] * 2
    assert set(body["results"][0]) >= {"id", "subject", "status", "tags", "created_at"}
    # Oldest first: the closed ticket is from June 2025.
    assert body["results"][0]["id"] == tickets["closed"]
    assert body["meta"]["has_more"] is True
    next_query = parse_qs(urlsplit(body["links"]["next"]).query)
    assert next_query["page[after]"] == [body["meta"]["after_cursor"]]
    assert next_query["query"] == ["refund"]

    last = requests.get(
        body["links"]["next"], headers={"Authorization": GOOD_BASIC}, timeout=10
    ).json()
    assert [result["id"] for result in last["results"]] == [tickets["pending"]]
    assert last["meta"]["has_more"] is False
    assert last["links"]["next"] is None


def test_the_export_requires_a_ticket_filter(sandbox_url, tickets):
    missing = get(sandbox_url, "search/export.json", query="refund")
    users = get(
        sandbox_url, "search/export.json", query="x", **{"filter[type]": "user"}
    )

    assert missing.status_code == 400
    assert "filter[type] is required" in missing.json()["description"]
    assert users.status_code == 400


def test_a_page_size_above_1000_is_refused(sandbox_url, tickets):
    response = get(
        sandbox_url,
        "search/export.json",
        query="refund",
        **{"filter[type]": "ticket", "page[size]": "1001"},
    )

    assert response.status_code == 400
    assert response.json()["error"] == "InvalidPaginationParameter"


def test_tickets_created_at_the_same_moment_are_each_exported_once(client, sandbox_url):
    ids = [ticket(f"Twin {n}", created="2026-03-01") for n in range(7)]

    found = [summary.id for summary in client.iter_search_tickets("twin", page_size=2)]

    assert found == ids


def test_250_tickets_come_in_three_pages(client, sandbox_url):
    Ticket.objects.bulk_create(Ticket(subject=f"Bulk {n}") for n in range(250))

    found = [summary.id for summary in client.iter_search_tickets("bulk")]

    assert len(found) == len(set(found)) == 250
    assert client.count_search("bulk") == 250


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("priority:high", "“priority” is not a field the sandbox can search"),
        ("status:sleeping", "“sleeping” is not a ticket status"),
        ("created>yesterday", "“yesterday” is not a date"),
        ("tags<vip", "cannot be compared"),
        ('"unclosed phrase', "malformed"),
        ("status:", "has no value"),
        ("type:user", "tickets only"),
    ],
)
def test_an_invalid_query_raises_with_the_reason(client, tickets, query, message):
    with pytest.raises(InvalidSearchError) as counting:
        client.count_search(query)
    with pytest.raises(InvalidSearchError) as exporting:
        list(client.iter_search_tickets(query))

    assert message in counting.value.message
    assert message in exporting.value.message
    assert counting.value.status_code == 400


def test_an_empty_query_is_refused_before_any_call(client):
    with pytest.raises(InvalidSearchError, match="empty"):
        client.count_search("  ")
