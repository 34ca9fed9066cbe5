"""Macro Search against the sandbox over real HTTP: the page, its htmx
results, the downloads and what a person sees when something is wrong."""

import csv
import io
import json

import pytest
from django.core.cache import cache
from django.urls import reverse
from django.utils import timezone

from sandbox.faults import inject_fault
from sandbox.models import RequestLog
from tests.sandbox_data import action, make_macro
from tools.macros import macro_url
from tools.models import Tool

pytestmark = pytest.mark.django_db(transaction=True, databases=["default", "sandbox"])

PAGE = reverse("tools:form", args=["macro-search"])
CSV_URL = reverse("tools:macro-search-export-csv")
JSON_URL = reverse("tools:macro-search-export-json")
HX = {"HX-Request": "true"}


@pytest.fixture
def macros(sandbox_url) -> dict:
    """A few macros in Zendesk's shapes, one of them retired."""
    made = [
        make_macro("VIP welcome", [action("status", "open")], position=1),
        make_macro(
            "Escalate",
            [action("current_tags", "escalated vip"), action("priority", "high")],
            position=2,
        ),
        make_macro(
            "Close as duplicate",
            [
                action("status", "solved"),
                action("comment_value", "We are closing this duplicate ticket."),
            ],
            position=3,
        ),
        make_macro(
            "Old vip reply", [action("status", "solved")], position=4, active=False
        ),
    ]
    return {macro.title: macro for macro in made}


@pytest.fixture
def unreachable_zendesk(settings):
    settings.ZENDESK_URL = "http://127.0.0.1:9/sandbox"  # nothing listens there
    cache.clear()  # no macros kept from an earlier test


def found(response) -> list[str]:
    return [match.title for match in response.context["search"].matches]


def test_the_tool_is_on_the_dashboard_under_macros(agent_client):
    html = agent_client.get(reverse("tools:dashboard")).content.decode()

    assert "<h2>Macros</h2>" in html
    assert f'href="{PAGE}">Macro Search</a>' in html


def test_a_fresh_page_asks_nothing_of_zendesk_and_includes_inactive_macros(
    agent_client, sandbox_url
):
    response = agent_client.get(PAGE)

    assert response.status_code == 200
    assert (
        '<input type="checkbox" name="include_inactive" id="id_include_inactive" '
        "checked>" in response.content.decode()
    )
    assert RequestLog.objects.count() == 0


def test_finds_a_macro_by_its_title(agent_client, macros):
    response = agent_client.get(PAGE, {"q": "WELCOME", "include_inactive": "on"})

    assert found(response) == ["VIP welcome"]
    html = response.content.decode()
    assert "<mark>welcome</mark>" in html
    assert "<strong>1</strong> macro" in html


def test_finds_a_macro_by_a_tag_it_adds(agent_client, macros):
    response = agent_client.get(PAGE, {"q": "escalated", "include_inactive": "on"})

    assert found(response) == ["Escalate"]
    html = response.content.decode()
    assert "Add tags: <mark>escalated</mark> vip" in html


def test_finds_a_macro_by_a_word_in_its_comment(agent_client, macros):
    response = agent_client.get(PAGE, {"q": "Duplicate Ticket"})

    [match] = response.context["search"].matches
    assert [str(action) for action in match.actions] == [
        "Comment (public): We are closing this duplicate ticket."
    ]


def test_inactive_macros_are_found_unless_left_out(agent_client, macros):
    everything = agent_client.get(PAGE, {"q": "vip", "include_inactive": "on"})
    active_only = agent_client.get(PAGE, {"q": "vip"})

    assert found(everything) == ["VIP welcome", "Escalate", "Old vip reply"]
    assert "Inactive" in everything.content.decode()
    assert found(active_only) == ["VIP welcome", "Escalate"]
    assert "counting active macros only" in active_only.content.decode()


def test_htmx_gets_only_the_results(agent_client, macros):
    response = agent_client.get(PAGE, {"q": "vip"}, headers=HX)

    html = response.content.decode()
    assert "<mark>VIP</mark> welcome" in html
    assert "<form" not in html
    assert "<html" not in html


def test_going_back_through_htmx_history_gets_the_whole_page(agent_client, macros):
    headers = {**HX, "HX-History-Restore-Request": "true"}

    response = agent_client.get(PAGE, {"q": "vip"}, headers=headers)

    assert '<form id="macro-search"' in response.content.decode()


def test_macros_are_read_once_a_minute_not_once_a_search(agent_client, macros):
    agent_client.get(PAGE, {"q": "vip"})
    agent_client.get(PAGE, {"q": "close"}, headers=HX)

    assert RequestLog.objects.filter(path__contains="macros").count() == 1


def test_a_title_holding_html_is_shown_as_text(agent_client, sandbox_url):
    make_macro("<script>alert('vip')</script> reply", [])

    response = agent_client.get(PAGE, {"q": "vip"}, headers=HX)

    html = response.content.decode()
    assert "<script>" not in html
    assert "&lt;script&gt;alert(&#x27;<mark>vip</mark>&#x27;)&lt;/script&gt;" in html


def test_a_macro_links_to_zendesk_except_in_the_sandbox(agent_client, macros):
    macro = macros["Escalate"]

    sandbox_html = agent_client.get(PAGE, {"q": "escalate"}).content.decode()

    assert "/admin/workspaces/agent-workspace/macros/" not in sandbox_html
    assert "listed without links" in sandbox_html
    assert f"#{macro.pk}" in sandbox_html


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("", "Enter the text to look for."),
        ("   ", "Enter the text to look for."),
        ("v", "Enter at least 2 characters to look for."),
        ("v" * 201, "Search for at most 200 characters at a time."),
    ],
)
def test_a_blank_or_short_query_gets_a_message_and_asks_nothing(
    agent_client, macros, query, message
):
    response = agent_client.get(PAGE, {"q": query}, headers=HX)

    assert response.status_code == 200
    assert message in response.content.decode()
    assert RequestLog.objects.count() == 0


def test_an_unreachable_zendesk_gets_a_message(agent_client, unreachable_zendesk):
    response = agent_client.get(PAGE, {"q": "vip"})

    assert response.status_code == 200
    assert "Zendesk could not be reached" in response.content.decode()


def test_refused_credentials_get_a_message(agent_client, macros):
    # As Zendesk answers once the configured token has been replaced.
    inject_fault("macros", 401)

    response = agent_client.get(PAGE, {"q": "vip"}, headers=HX)

    assert response.status_code == 200
    assert "Zendesk refused the configured credentials" in response.content.decode()


def test_a_search_cannot_be_posted(agent_client, macros):
    assert agent_client.post(PAGE, {"q": "vip"}).status_code == 405


def test_a_turned_off_tool_answers_not_found_with_its_reason(agent_client, macros):
    Tool.objects.filter(slug="macro-search").update(enabled=False)

    page = agent_client.get(PAGE, {"q": "vip"})
    download = agent_client.get(CSV_URL, {"q": "vip"})

    for response in (page, download):
        assert response.status_code == 404
        assert "The Macro Search is turned off" in response.content.decode()


# Downloads


def test_the_csv_holds_each_match_with_what_matched(agent_client, macros):
    response = agent_client.get(CSV_URL, {"q": "VIP", "include_inactive": "on"})

    today = timezone.localdate().isoformat()
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"] == (
        f'attachment; filename="macro-search-vip-{today}.csv"'
    )
    rows = list(csv.DictReader(io.StringIO(response.content.decode())))
    assert [(row["title"], row["active"], row["matched_in"]) for row in rows] == [
        ("VIP welcome", "True", "title"),
        ("Escalate", "True", "actions"),
        ("Old vip reply", "False", "title"),
    ]
    assert rows[1]["matching_actions"] == "Add tags: escalated vip"
    assert rows[1]["id"] == str(macros["Escalate"].pk)


def test_the_json_holds_each_match_and_its_actions(agent_client, macros):
    response = agent_client.get(JSON_URL, {"q": "escalated"})

    assert response["Content-Type"] == "application/json"
    assert response["Content-Disposition"].endswith('.json"')
    assert json.loads(response.content) == [
        {
            "id": macros["Escalate"].pk,
            "title": "Escalate",
            "active": True,
            "matched_in": "actions",
            "matching_actions": [
                {
                    "field": "current_tags",
                    "label": "Add tags",
                    "value": "escalated vip",
                }
            ],
            "zendesk_url": "",
        }
    ]


def test_the_page_links_to_downloads_of_the_same_search(agent_client, macros):
    html = agent_client.get(PAGE, {"q": "vip welcome", "include_inactive": "on"})

    query = "q=vip+welcome&amp;include_inactive=on"
    assert f'href="{CSV_URL}?{query}"' in html.content.decode()
    assert f'href="{JSON_URL}?{query}"' in html.content.decode()


def test_a_csv_cell_a_spreadsheet_would_run_is_defused(agent_client, sandbox_url):
    make_macro('=HYPERLINK("https://evil.example","vip")', [])

    response = agent_client.get(CSV_URL, {"q": "vip"})

    [row] = list(csv.DictReader(io.StringIO(response.content.decode())))
    assert row["title"].startswith("'=HYPERLINK")


def test_a_download_without_a_usable_query_says_why(agent_client, macros):
    response = agent_client.get(CSV_URL, {"q": "v"})

    assert response.status_code == 400
    assert response.content.decode() == "Enter at least 2 characters to look for."
    assert RequestLog.objects.count() == 0


def test_a_download_when_zendesk_is_unreachable_says_why(
    agent_client, unreachable_zendesk
):
    response = agent_client.get(JSON_URL, {"q": "vip"})

    assert response.status_code == 502
    assert response["Content-Type"] == "text/plain; charset=utf-8"
    assert "Zendesk could not be reached" in response.content.decode()


def test_a_macro_links_to_its_page_in_a_real_zendesk(agent_client, macros, settings):
    # The same sandbox, answering as an account with pages for people would.
    settings.SANDBOX_ENABLED = False
    macro = macros["Escalate"]

    html = agent_client.get(PAGE, {"q": "escalate"}).content.decode()

    link = f"{settings.ZENDESK_URL}/admin/workspaces/agent-workspace/macros/{macro.pk}"
    assert f'<a href="{link}" target="_blank" rel="noopener"><mark>Escalate' in html
    assert "listed without links" not in html


def test_links_go_to_the_macro_in_zendesk(settings):
    settings.ZENDESK_URL = "https://acme.zendesk.com"

    assert macro_url(42) == (
        "https://acme.zendesk.com/admin/workspaces/agent-workspace/macros/42"
    )
