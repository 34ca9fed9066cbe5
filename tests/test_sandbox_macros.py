"""The sandbox's macros, through its HTTP API."""

import pytest
from django.core.management import call_command

from sandbox.models import Macro
from tests.sandbox_api import API, API_TOKEN, EMAIL, Api
from tests.sandbox_data import action, make_macro

pytestmark = pytest.mark.django_db(databases=["default", "sandbox"])


@pytest.fixture(autouse=True)
def sandbox_settings(settings):
    settings.ZENDESK_EMAIL = EMAIL
    settings.ZENDESK_API_TOKEN = API_TOKEN
    settings.SANDBOX_RATE_LIMIT_PER_MINUTE = 0
    settings.SANDBOX_JOB_LATENCY_SECONDS = 0
    return settings


@pytest.fixture
def api(client) -> Api:
    return Api(client)


def titles(body: dict) -> list[str]:
    return [macro["title"] for macro in body["macros"]]


# Listing and showing


def test_a_macro_is_described_like_zendesk_does(api):
    actions = [action("status", "solved"), action("current_tags", "duplicate")]
    macro = make_macro("Close", actions, description="Solve it")

    shown = api.get(f"macros/{macro.pk}.json").json()["macro"]

    assert shown["id"] == macro.pk
    assert shown["url"] == f"http://testserver{API}/macros/{macro.pk}.json"
    assert shown["title"] == "Close"
    assert shown["active"] is True
    assert shown["description"] == "Solve it"
    assert shown["actions"] == actions
    assert shown["restriction"] is None
    assert shown["updated_at"].endswith("Z")


def test_an_unknown_macro_is_not_found(api):
    response = api.get("macros/999")

    assert response.status_code == 404
    assert response.json()["error"] == "RecordNotFound"


def test_macros_are_paged_by_offset_and_the_filter_follows_the_pages(api):
    for position in range(1, 4):
        make_macro(f"Macro {position}", [], position=position)
    make_macro("Retired", [], position=0, active=False)

    first = api.get("macros.json", {"active": "true", "per_page": 2}).json()
    second = api.get(first["next_page"]).json()

    assert titles(first) == ["Macro 1", "Macro 2"]
    assert first["count"] == 3
    assert "active=true" in first["next_page"]
    assert titles(second) == ["Macro 3"]
    assert second["next_page"] is None


def test_macros_can_be_listed_all_or_inactive_only(api):
    make_macro("On", [], position=1)
    make_macro("Off", [], position=2, active=False)

    assert titles(api.get("macros").json()) == ["On", "Off"]
    assert titles(api.get("macros", {"active": "false"}).json()) == ["Off"]
    assert titles(api.get("macros/active.json").json()) == ["On"]


def test_a_filter_that_is_not_true_or_false_is_refused(api):
    response = api.get("macros.json", {"active": "maybe"})

    assert response.status_code == 400


def test_seeded_macros_cover_the_actions_the_tools_meet():
    call_command("seed_sandbox", tickets=0)
    call_command("seed_sandbox", tickets=0)

    macros = list(Macro.objects.all())
    fields = {item["field"] for macro in macros for item in macro.actions}
    texts = [str(item["value"]) for macro in macros for item in macro.actions]

    assert len(macros) == len({macro.title for macro in macros}) >= 10
    assert any(not macro.active for macro in macros)
    assert {"set_tags", "remove_tags", "current_tags", "group_id"} <= fields
    assert {"comment_mode_is_public", "satisfaction_score"} <= fields
    assert any(field.startswith("custom_fields_") for field in fields)
    assert any("{{ticket.requester.first_name}}" in text for text in texts)
