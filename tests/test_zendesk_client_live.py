"""The client against the sandbox over real HTTP, faults included."""

import pytest
from django.conf import settings
from django.core.management import call_command

from sandbox.faults import inject_fault
from sandbox.models import RequestLog, TicketAudit
from tests.sandbox_data import action, make_macro, make_tickets, make_view
from zendesk import AuthenticationError, ZendeskClient

pytestmark = pytest.mark.django_db(transaction=True, databases=["default", "sandbox"])


class RecordedSleep:
    def __init__(self) -> None:
        self.waits: list[float] = []

    def __call__(self, seconds: float) -> None:
        self.waits.append(seconds)


@pytest.fixture
def sleep():
    return RecordedSleep()


@pytest.fixture
def client(sandbox_url, sleep):
    return ZendeskClient(
        sandbox_url,
        email=settings.ZENDESK_EMAIL,
        api_token=settings.ZENDESK_API_TOKEN,
        backoff_seconds=0.01,
        sleep=sleep,
    )


def test_a_view_of_250_tickets_comes_in_three_pages(client):
    ticket_ids = make_tickets(250, tags=lambda n: [f"t{n}"])
    view = make_view("Everything")

    tickets = list(client.iter_view_tickets(view.pk))

    assert [ticket.id for ticket in tickets] == ticket_ids
    assert tickets[7].tags == ("t7",)
    assert tickets[7].status == "open"
    pages = RequestLog.objects.filter(path__contains=f"/views/{view.pk}/tickets")
    assert pages.count() == 3


def test_a_429_with_an_html_body_waits_for_retry_after(client, sleep):
    make_tickets(5)
    view = make_view("Everything")
    inject_fault("/tickets", 429, retry_after=7)

    tickets = list(client.iter_view_tickets(view.pk))

    assert len(tickets) == 5
    assert sleep.waits == [7]


def test_a_server_error_then_success(client, sleep):
    make_view("Everything")
    inject_fault("/views/active", 503, times=2)

    views = client.list_active_views()

    assert [view["title"] for view in views] == ["Everything"]
    assert len(sleep.waits) == 2


def test_wrong_credentials_are_refused(sandbox_url):
    client = ZendeskClient(sandbox_url, email="agent@example.com", api_token="wrong")

    with pytest.raises(AuthenticationError):
        client.list_active_views()


def test_more_than_100_ids_are_refused_before_sending(client):
    with pytest.raises(ValueError, match="100"):
        client.update_many_tags(list(range(1, 102)), additional_tags=["vip"])

    assert not RequestLog.objects.filter(path__contains="update_many").exists()


def test_macros_are_listed_across_pages_and_filtered(client):
    for n in range(150):
        make_macro(f"Macro {n}", [action("status", "open")], position=n)
    make_macro("Retired", [], position=999, active=False)

    every = list(client.iter_macros())
    active = list(client.iter_macros(active=True))
    inactive = list(client.iter_macros(active=False))

    assert len(every) == 151
    assert len(active) == 150
    assert [macro["title"] for macro in inactive] == ["Retired"]
    assert client.get_macro(every[3]["id"])["actions"] == [action("status", "open")]
    pages = RequestLog.objects.filter(path__endswith="/macros.json")
    assert pages.count() == 2 + 2 + 1


def test_a_macro_previewed_then_sent_in_a_batch_lands_once(client, settings):
    settings.SANDBOX_JOB_LATENCY_SECONDS = 0
    ticket_ids = make_tickets(2)
    macro = make_macro(
        "Reply",
        [action("status", "pending"), action("comment_value", "On #{{ticket.id}}")],
    )

    previews = [client.preview_macro(pk, macro.pk) for pk in ticket_ids]
    job = client.update_many_batch(
        [
            {
                "id": preview["ticket"]["id"],
                "status": preview["ticket"]["status"],
                "comment": {"body": preview["comment"]["body"]},
                "macro_ids": [macro.pk],
            }
            for preview in previews
        ]
    )
    comments = list(client.iter_ticket_comments(ticket_ids[1]))

    assert [result["success"] for result in job["results"]] == [True, True]
    assert client.get_ticket(ticket_ids[1])["status"] == "pending"
    assert [comment["body"] for comment in comments] == [f"On #{ticket_ids[1]}"]
    audit = TicketAudit.objects.get(ticket_id=ticket_ids[1])
    assert audit.macro_ids == [macro.pk]


def test_comments_groups_and_fields_come_from_the_sandbox(client, settings):
    settings.SANDBOX_JOB_LATENCY_SECONDS = 0
    call_command("seed_sandbox", tickets=0)
    [ticket_id] = make_tickets(1)
    for n in range(120):
        change = {"comment": {"body": f"Note {n}", "public": False}}
        client.update_many([ticket_id], change)

    oldest = list(client.iter_ticket_comments(ticket_id))
    newest = list(client.iter_ticket_comments(ticket_id, newest_first=True))

    assert len(oldest) == 120
    assert oldest[0]["body"] == newest[-1]["body"] == "Note 0"
    assert oldest[-1]["body"] == newest[0]["body"] == "Note 119"
    assert [group["name"] for group in client.list_groups()][:2] == [
        "Support",
        "Tier 2",
    ]
    assert {field["type"] for field in client.list_ticket_fields()} == {
        "text",
        "tagger",
        "checkbox",
        "integer",
    }
