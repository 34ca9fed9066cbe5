"""update_many beyond tags: fields, comments, macro ids and the batch form;
and the comments, audits, groups and ticket fields the sandbox serves."""

from datetime import timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone

from sandbox.models import Comment, Group, Ticket, TicketAudit, TicketField
from sandbox.seed_account import API_USER_ID
from tests.sandbox_api import Api
from tests.sandbox_data import make_tickets, tags_of

pytestmark = pytest.mark.django_db(databases=["default", "sandbox"])


def results_of(response) -> list[dict]:
    return response.json()["job_status"]["results"]


def batch(api: Api, tickets: list[dict]):
    return api.put("tickets/update_many.json", {"tickets": tickets})


# The bulk form


def test_the_bulk_form_sets_fields_adds_a_comment_and_records_the_macro(api):
    ids = make_tickets(2, tags=lambda n: ["keep"])
    change = {
        "status": "pending",
        "priority": "high",
        "type": "incident",
        "group_id": 12,
        "assignee_id": 5,
        "custom_fields": [{"id": 901, "value": "area_api"}],
        "additional_tags": ["escalated"],
        "comment": {"body": "We are on it.", "public": False},
        "macro_ids": [42],
    }

    response = api.update_many(ids, change)

    assert [result["success"] for result in results_of(response)] == [True, True]
    shown = api.get(f"tickets/{ids[0]}.json").json()["ticket"]
    assert shown["status"] == "pending"
    assert shown["priority"] == "high"
    assert shown["type"] == "incident"
    assert (shown["group_id"], shown["assignee_id"]) == (12, 5)
    assert shown["custom_fields"] == [{"id": 901, "value": "area_api"}]
    assert shown["fields"] == shown["custom_fields"]
    assert shown["tags"] == ["keep", "escalated"]
    comment = Comment.objects.get(ticket_id=ids[0])
    assert (comment.body, comment.public, comment.author_id) == (
        "We are on it.",
        False,
        API_USER_ID,
    )
    assert TicketAudit.objects.get(ticket_id=ids[1]).macro_ids == [42]


def test_a_comment_alone_moves_updated_at_and_html_is_derived(api):
    [ticket_id] = make_tickets(1)
    before = Ticket.objects.get(pk=ticket_id).updated_at

    api.update_many([ticket_id], {"comment": {"body": "Line <1>\n\nLine 2"}})

    comment = Comment.objects.get(ticket_id=ticket_id)
    assert comment.public is True
    assert "<p>Line &lt;1&gt;</p><p>Line 2</p>" in comment.html_body
    assert Ticket.objects.get(pk=ticket_id).updated_at > before


def test_an_html_comment_gets_a_plain_body(api):
    [ticket_id] = make_tickets(1)

    api.update_many([ticket_id], {"comment": {"html_body": "<p>Hello <b>you</b></p>"}})

    assert Comment.objects.get(ticket_id=ticket_id).body == "Hello you"


def test_an_invalid_value_fails_each_ticket_and_changes_nothing(api):
    ids = make_tickets(2)

    response = api.update_many(ids, {"priority": "asap", "additional_tags": ["x"]})

    results = results_of(response)
    assert [result["error"] for result in results] == ["RecordInvalid"] * 2
    assert "Priority" in results[0]["details"]
    assert tags_of(ids) == {ids[0]: ["base"], ids[1]: ["base"]}


def test_a_macro_id_alone_is_audited_without_changing_the_ticket(api):
    [ticket_id] = make_tickets(1)
    before = Ticket.objects.get(pk=ticket_id).updated_at

    api.update_many([ticket_id], {"macro_id": 7, "additional_tags": ["base"]})

    audits = api.get(f"tickets/{ticket_id}/audits.json").json()["audits"]
    assert audits[0]["events"] == [{"type": "AgentMacroReference", "macro_id": 7}]
    assert Ticket.objects.get(pk=ticket_id).updated_at == before


@pytest.mark.parametrize(
    "ticket",
    [
        {"comment": "text"},
        {"comment": {"public": True}},
        {"custom_fields": {"901": "x"}},
        {"group_id": "twelve"},
        {"macro_ids": ["7"]},
        {"satisfaction_rating": "good"},
    ],
)
def test_malformed_changes_are_refused_before_a_job(api, ticket):
    [ticket_id] = make_tickets(1)

    response = api.update_many([ticket_id], ticket)

    assert response.status_code == 400
    assert response.json()["error"] == "InvalidValue"


# The batch form


def test_the_batch_form_changes_each_ticket_its_own_way(api):
    first, second, closed = make_tickets(
        3, status=lambda n: "closed" if n == 2 else "open"
    )

    response = batch(
        api,
        [
            {"id": first, "status": "solved", "comment": {"body": "Done"}},
            {"id": second, "remove_tags": ["base"], "subject": "Renamed"},
            {"id": closed, "status": "open"},
        ],
    )

    results = results_of(response)
    assert [result["success"] for result in results] == [True, True, False]
    assert results[2]["details"] == "Status: closed prevents ticket update"
    assert Ticket.objects.get(pk=first).status == "solved"
    assert Comment.objects.filter(ticket_id=first).count() == 1
    assert Ticket.objects.get(pk=second).subject == "Renamed"
    assert tags_of([second]) == {second: []}
    assert Ticket.objects.get(pk=closed).status == "closed"


def test_a_safe_update_sent_twice_is_carried_out_once(api):
    (ticket_id,) = make_tickets(1)
    # Last changed an hour ago: the API shows times to the second only.
    an_hour_ago = timezone.now() - timedelta(hours=1)
    Ticket.objects.filter(pk=ticket_id).update(updated_at=an_hour_ago)
    stamp = api.get(f"tickets/{ticket_id}.json").json()["ticket"]["updated_at"]
    update = {
        "id": ticket_id,
        "comment": {"body": "Once only"},
        "safe_update": True,
        "updated_stamp": stamp,
    }

    first = results_of(batch(api, [update]))
    second = results_of(batch(api, [update]))

    assert first[0]["success"] is True
    assert (second[0]["success"], second[0]["error"]) == (False, "UpdateConflict")
    assert Comment.objects.filter(ticket_id=ticket_id, body="Once only").count() == 1


def test_a_safe_update_needs_a_stamp_with_a_time_zone(api):
    (ticket_id,) = make_tickets(1)

    response = batch(
        api,
        [{"id": ticket_id, "status": "solved", "safe_update": True}],
    )

    assert response.status_code == 400
    assert Ticket.objects.get(pk=ticket_id).status == "open"


@pytest.mark.parametrize(
    "tickets",
    [
        [{"status": "open"}],
        [{"id": 1, "status": "open"}, {"id": 1, "status": "solved"}],
        [{"id": n, "status": "open"} for n in range(1, 102)],
        [],
    ],
)
def test_a_batch_with_missing_repeated_or_too_many_ids_is_refused(api, tickets):
    make_tickets(1)

    response = batch(api, tickets)

    assert response.status_code == 400
    assert Ticket.objects.get().status == "open"


# Comments and audits


def test_comments_come_in_cursor_pages_oldest_or_newest_first(api):
    [ticket_id] = make_tickets(1)
    for n in range(5):
        api.update_many([ticket_id], {"comment": {"body": f"Note {n}"}})

    first = api.get(f"tickets/{ticket_id}/comments.json", {"page[size]": 3}).json()
    second = api.get(first["links"]["next"]).json()
    newest = api.get(
        f"tickets/{ticket_id}/comments", {"sort_order": "desc", "page[size]": 2}
    ).json()
    older = api.get(newest["links"]["next"]).json()

    bodies = [c["body"] for page in (first, second) for c in page["comments"]]
    assert bodies == [f"Note {n}" for n in range(5)]
    assert first["meta"]["has_more"] is True
    assert second["meta"]["has_more"] is False
    assert [c["body"] for c in newest["comments"]] == ["Note 4", "Note 3"]
    assert [c["body"] for c in older["comments"]] == ["Note 2", "Note 1"]
    assert set(first["comments"][0]) == {
        "id",
        "type",
        "author_id",
        "body",
        "html_body",
        "plain_body",
        "public",
        "created_at",
    }


def test_comments_of_an_unknown_ticket_are_not_found(api):
    assert api.get("tickets/424242/comments.json").status_code == 404


# Groups, ticket fields and seeding


def test_seeded_groups_fields_and_tickets_carry_zendesk_shapes(api):
    call_command("seed_sandbox", tickets=200, seed=5)

    groups = api.get("groups.json").json()["groups"]
    fields = api.get("ticket_fields.json").json()["ticket_fields"]
    first_ids = Ticket.objects.order_by("pk").values_list("pk", flat=True)[:3]
    tickets = [api.get(f"tickets/{pk}").json()["ticket"] for pk in first_ids]

    assert [group["name"] for group in groups] == [g.name for g in Group.objects.all()]
    tagger = next(field for field in fields if field["type"] == "tagger")
    assert tagger["custom_field_options"][0]["value"] == "area_billing"
    assert any(not field["active"] for field in fields)
    assert len(fields) == TicketField.objects.count()
    assert all(ticket["requester_id"] for ticket in tickets)
    assert all(len(ticket["custom_fields"]) == 4 for ticket in tickets)
    assert Comment.objects.count() == 200
    assert {t.priority for t in Ticket.objects.all()} >= {"", "low", "urgent"}
