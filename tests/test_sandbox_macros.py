"""The sandbox's macros, through its HTTP API."""

import pytest
from django.core.management import call_command

from sandbox.models import Comment, Macro, Ticket, User
from sandbox.seed_account import API_USER_ID
from tests.sandbox_api import API
from tests.sandbox_data import action, make_macro, make_tickets

pytestmark = pytest.mark.django_db(databases=["default", "sandbox"])


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


# Previews


def make_person(user_id: int, name: str) -> User:
    return User.objects.create(id=user_id, name=name, email=f"{user_id}@example.com")


def test_apply_without_a_ticket_shows_only_what_the_macro_sets(api):
    macro = make_macro(
        "Escalate",
        [
            action("group_id", "12"),
            action("priority", "high"),
            action("current_tags", "escalated tier_2"),
            action("custom_fields_901", "area_api"),
        ],
    )

    result = api.get(f"macros/{macro.pk}/apply.json").json()["result"]

    assert result == {
        "ticket": {
            "priority": "high",
            "group_id": 12,
            "additional_tags": ["escalated", "tier_2"],
            "custom_fields": [{"id": 901, "value": "area_api"}],
            "fields": [{"id": 901, "value": "area_api"}],
        }
    }


def test_apply_to_a_ticket_renders_placeholders_and_saves_nothing(api):
    make_person(API_USER_ID, "Sam Agent")
    make_person(500, "Ada Lovelace")
    ticket = Ticket.objects.create(
        subject="Help", status="open", tags=" base spam_suspect ", requester_id=500
    )
    text = (
        "Hi {{ticket.requester.first_name}}, about #{{ticket.id}} "
        "({{ticket.title}}): {{ current_user.first_name }}{{ticket.unknown}}"
    )
    macro = make_macro(
        "Reply",
        [
            action("status", "pending"),
            action("assignee_id", "current_user"),
            action("remove_tags", "spam_suspect"),
            action("comment_value", ["channel:all", text]),
            action("comment_mode_is_public", "false"),
        ],
    )

    response = api.get(f"tickets/{ticket.pk}/macros/{macro.pk}/apply.json")

    result = response.json()["result"]
    assert result["ticket"]["status"] == "pending"
    assert result["ticket"]["assignee_id"] == API_USER_ID
    assert result["ticket"]["tags"] == ["base"]
    assert result["ticket"]["id"] == ticket.pk
    body = f"Hi Ada, about #{ticket.pk} (Help): Sam"
    assert result["comment"]["body"] == body
    assert result["comment"]["public"] is False
    assert body in result["comment"]["html_body"]
    ticket.refresh_from_db()
    assert (ticket.status, ticket.tag_list) == ("open", ["base", "spam_suspect"])
    assert not Comment.objects.exists()


def test_set_tags_replaces_the_list_and_a_macro_without_comment_has_none(api):
    [ticket_id] = make_tickets(1, tags=lambda n: ["old", "vip"])
    macro = make_macro("Triage", [action("set_tags", "triage needs_review")])

    result = api.get(f"tickets/{ticket_id}/macros/{macro.pk}/apply").json()["result"]

    assert result["ticket"]["tags"] == ["triage", "needs_review"]
    assert "comment" not in result


def test_previews_of_unknown_macros_or_tickets_are_not_found(api):
    macro = make_macro("Any", [action("status", "open")])

    assert api.get("macros/999/apply.json").status_code == 404
    assert api.get(f"tickets/424242/macros/{macro.pk}/apply").status_code == 404
