"""The Zendesk sandbox, exercised through Django's test client."""

import json

import pytest
from django.contrib.auth.models import User
from django.core.management import call_command
from django.test import Client
from django.utils import timezone

from sandbox.faults import inject_fault
from sandbox.models import JobStatus, RequestLog, Ticket, View
from sandbox.routers import SandboxRouter
from sandbox.tags import normalise_tags, tags_to_text
from tests.sandbox_api import API, API_TOKEN, EMAIL, GOOD_BASIC, Api, Clock, basic

pytestmark = pytest.mark.django_db(databases=["default", "sandbox"])

OAUTH_TOKEN = "oauth-test-token"


@pytest.fixture(autouse=True)
def sandbox_settings(settings):
    settings.ZENDESK_EMAIL = EMAIL
    settings.ZENDESK_API_TOKEN = API_TOKEN
    settings.ZENDESK_OAUTH_TOKEN = OAUTH_TOKEN
    settings.SANDBOX_RATE_LIMIT_PER_MINUTE = 700
    settings.SANDBOX_JOB_LATENCY_SECONDS = 0
    settings.SANDBOX_MAX_QUEUED_JOBS = 30
    return settings


@pytest.fixture
def api(client) -> Api:
    return Api(client)


@pytest.fixture
def clock(monkeypatch) -> Clock:
    frozen = Clock()
    monkeypatch.setattr(timezone, "now", lambda: frozen.now)
    return frozen


def make_ticket(subject="Help", status="open", tags=()) -> Ticket:
    return Ticket.objects.create(
        subject=subject, status=status, tags=tags_to_text(tags)
    )


def make_view(title: str, all_=(), any_=(), **fields) -> View:
    conditions = {"all": list(all_), "any": list(any_)}
    return View.objects.create(title=title, conditions=conditions, **fields)


def rule(field: str, operator: str, value: str) -> dict:
    return {"field": field, "operator": operator, "value": value}


def tags_of(ticket: Ticket) -> list[str]:
    ticket.refresh_from_db()
    return ticket.tag_list


# Authentication


def test_a_request_without_credentials_is_refused(client):
    response = client.get(f"{API}/views/active.json")

    assert response.status_code == 401
    assert response.json() == {"error": "Couldn't authenticate you"}


@pytest.mark.parametrize(
    "authorization",
    [
        basic(f"{EMAIL}/token", "wrong-token"),
        basic("someone@example.com/token", API_TOKEN),
        basic(EMAIL, API_TOKEN),
        "Bearer wrong-oauth-token",
        "Basic not-base64!",
        OAUTH_TOKEN,
    ],
)
def test_wrong_credentials_are_refused(client, authorization):
    response = client.get(f"{API}/views/active.json", HTTP_AUTHORIZATION=authorization)

    assert response.status_code == 401


def test_an_oauth_bearer_token_is_accepted(client):
    response = client.get(
        f"{API}/views/active.json", HTTP_AUTHORIZATION=f"Bearer {OAUTH_TOKEN}"
    )

    assert response.status_code == 200


def test_an_unset_secret_never_matches(client, settings):
    settings.ZENDESK_OAUTH_TOKEN = ""
    settings.ZENDESK_API_TOKEN = ""

    bearer = client.get(f"{API}/views/active.json", HTTP_AUTHORIZATION="Bearer ")
    basic_empty = client.get(
        f"{API}/views/active.json", HTTP_AUTHORIZATION=basic(f"{EMAIL}/token", "")
    )

    assert bearer.status_code == 401
    assert basic_empty.status_code == 401


def test_updates_need_no_csrf_token(settings):
    ticket = make_ticket()
    strict_client = Client(enforce_csrf_checks=True)

    response = strict_client.put(
        f"{API}/tickets/update_many.json?ids={ticket.pk}",
        json.dumps({"ticket": {"additional_tags": ["x"]}}),
        content_type="application/json",
        HTTP_AUTHORIZATION=GOOD_BASIC,
    )

    assert response.status_code == 200


# Views


def test_active_views_are_paged_by_offset_and_skip_inactive_views(api):
    make_view("Second", position=2)
    make_view("First", position=1)
    make_view("Retired", position=0, active=False)

    first = api.get("views/active.json", {"per_page": 1}).json()
    second = api.get(first["next_page"]).json()

    assert [view["title"] for view in first["views"]] == ["First"]
    assert first["count"] == 2
    assert first["previous_page"] is None
    assert first["next_page"] == (
        "http://testserver/sandbox/api/v2/views/active.json?page=2&per_page=1"
    )
    assert [view["title"] for view in second["views"]] == ["Second"]
    assert second["next_page"] is None
    assert second["previous_page"].endswith("page=1&per_page=1")


def test_a_view_is_described_like_zendesk_does(api):
    conditions = [rule("status", "is", "open")]
    view = make_view("Open", all_=conditions)

    listed = api.get("views/active").json()["views"][0]

    assert listed["id"] == view.pk
    assert listed["active"] is True
    assert listed["conditions"] == {"all": conditions, "any": []}
    assert listed["url"] == f"http://testserver{API}/views/{view.pk}.json"
    assert listed["created_at"].endswith("Z")


def test_view_tickets_are_paged_by_cursor_to_the_end(api):
    view = make_view("Open", all_=[rule("status", "is", "open")])
    Ticket.objects.bulk_create(
        Ticket(subject=f"T{n}", status="open", tags=" ") for n in range(250)
    )
    make_ticket(status="solved")

    pages = [api.get(f"views/{view.pk}/tickets.json", {"page[size]": 100}).json()]
    while pages[-1]["meta"]["has_more"] and len(pages) < 10:
        pages.append(api.get(pages[-1]["links"]["next"]).json())

    ids = [ticket["id"] for page in pages for ticket in page["tickets"]]
    assert [len(page["tickets"]) for page in pages] == [100, 100, 50]
    assert [page["meta"]["has_more"] for page in pages] == [True, True, False]
    assert ids == sorted(ids)
    assert len(set(ids)) == 250
    assert pages[-1]["links"]["next"] is None
    assert pages[0]["links"]["prev"] is None
    assert "page%5Bafter%5D=" in pages[0]["links"]["next"]


def test_a_cursor_continues_after_the_last_ticket_of_a_page(api):
    view = make_view("Open", all_=[rule("status", "is", "open")])
    tickets = [make_ticket() for _ in range(5)]

    first = api.get(f"views/{view.pk}/tickets", {"page[size]": 2}).json()
    after = first["meta"]["after_cursor"]
    second = api.get(
        f"views/{view.pk}/tickets", {"page[size]": 2, "page[after]": after}
    ).json()
    before = second["meta"]["before_cursor"]
    back = api.get(
        f"views/{view.pk}/tickets", {"page[size]": 2, "page[before]": before}
    ).json()

    assert [t["id"] for t in second["tickets"]] == [t.pk for t in tickets[2:4]]
    assert [t["id"] for t in back["tickets"]] == [t.pk for t in tickets[0:2]]


@pytest.mark.parametrize(
    "params",
    [{"page[size]": 101}, {"page[size]": 0}, {"page[after]": "not-a-cursor"}],
)
def test_bad_cursor_parameters_are_refused(api, params):
    view = make_view("Any", all_=[rule("status", "is_not", "deleted")])

    response = api.get(f"views/{view.pk}/tickets.json", params)

    assert response.status_code == 400
    assert response.json()["error"] == "InvalidPaginationParameter"


def test_an_unknown_view_is_not_found(api):
    for path in ["views/999/tickets.json", "views/999/count.json"]:
        response = api.get(path)

        assert response.status_code == 404
        assert response.json() == {
            "error": "RecordNotFound",
            "description": "Not found",
        }


def test_a_view_count_counts_matching_tickets(api):
    view = make_view("Pending", all_=[rule("status", "is", "pending")])
    for _ in range(3):
        make_ticket(status="pending")
    make_ticket(status="open")

    count = api.get(f"views/{view.pk}/count.json").json()["view_count"]

    assert count == {
        "view_id": view.pk,
        "url": f"http://testserver{API}/views/{view.pk}/count.json",
        "value": 3,
        "pretty": "3",
        "fresh": True,
    }


@pytest.mark.parametrize(
    ("all_", "any_", "expected"),
    [
        ([rule("status", "is", "open")], [], {"open-vip", "open-plain"}),
        ([rule("status", "is_not", "open")], [], {"new-billing", "closed-vip"}),
        ([rule("status", "less_than", "open")], [], {"new-billing"}),
        ([rule("status", "greater_than", "open")], [], {"closed-vip"}),
        ([rule("current_tags", "includes", "vip")], [], {"open-vip", "closed-vip"}),
        (
            [rule("current_tags", "includes", "vip billing")],
            [],
            {"open-vip", "closed-vip", "new-billing"},
        ),
        (
            [rule("current_tags", "not_includes", "vip billing")],
            [],
            {"open-plain"},
        ),
        (
            [rule("status", "less_than", "closed")],
            [rule("current_tags", "includes", "vip"), rule("status", "is", "new")],
            {"open-vip", "new-billing"},
        ),
    ],
)
def test_view_conditions_select_tickets(api, all_, any_, expected):
    make_ticket("open-vip", "open", ["vip", "billing_vip"])
    make_ticket("open-plain", "open", ["vipx"])
    make_ticket("new-billing", "new", ["billing"])
    make_ticket("closed-vip", "closed", ["vip"])
    view = make_view("Under test", all_=all_, any_=any_)

    body = api.get(f"views/{view.pk}/tickets.json").json()

    assert {ticket["subject"] for ticket in body["tickets"]} == expected


# Tickets


def test_a_ticket_is_shown_like_zendesk_does(api):
    ticket = make_ticket("Refund please", "pending", ["billing", "vip"])

    body = api.get(f"tickets/{ticket.pk}.json").json()["ticket"]

    assert body["id"] == ticket.pk
    assert body["url"] == f"http://testserver{API}/tickets/{ticket.pk}.json"
    assert body["subject"] == "Refund please"
    assert body["status"] == "pending"
    assert body["tags"] == ["billing", "vip"]
    assert body["updated_at"].endswith("Z")


def test_show_many_skips_unknown_tickets(api):
    first, second = make_ticket(), make_ticket()

    body = api.get("tickets/show_many.json", {"ids": f"{second.pk},999,{first.pk}"})

    assert [ticket["id"] for ticket in body.json()["tickets"]] == [second.pk, first.pk]


def test_update_many_adds_and_removes_tags_and_leaves_others_alone(api):
    first = make_ticket(tags=["keep", "old"])
    second = make_ticket(tags=["keep"])

    response = api.update_many(
        [first.pk, second.pk], {"additional_tags": ["new"], "remove_tags": ["old"]}
    )

    assert response.status_code == 200
    assert tags_of(first) == ["keep", "new"]
    assert tags_of(second) == ["keep", "new"]
    results = response.json()["job_status"]["results"]
    assert results == [
        {"id": first.pk, "action": "update", "status": "Updated", "success": True},
        {"id": second.pk, "action": "update", "status": "Updated", "success": True},
    ]


def test_update_many_with_tags_replaces_the_whole_list(api):
    ticket = make_ticket(tags=["a", "b"])

    api.update_many([ticket.pk], {"tags": ["c"]})

    assert tags_of(ticket) == ["c"]


def test_tags_are_lower_cased_and_split_at_spaces(api):
    ticket = make_ticket(tags=["vip"])

    api.update_many([ticket.pk], {"additional_tags": ["Priority Customer", "VIP"]})

    assert tags_of(ticket) == ["vip", "priority", "customer"]


def test_updated_at_moves_only_when_tags_change(api, clock):
    unchanged = make_ticket(tags=["done"])
    changed = make_ticket(tags=[])
    before = {t.pk: t.updated_at for t in (unchanged, changed)}
    clock.advance(60)

    api.update_many([unchanged.pk, changed.pk], {"additional_tags": ["done"]})

    unchanged.refresh_from_db()
    changed.refresh_from_db()
    assert unchanged.updated_at == before[unchanged.pk]
    assert changed.updated_at == clock.now


def test_a_closed_ticket_fails_and_keeps_its_tags(api):
    closed = make_ticket(status="closed", tags=["old"])

    response = api.update_many([closed.pk], {"additional_tags": ["new"]})

    assert response.json()["job_status"]["results"] == [
        {
            "id": closed.pk,
            "action": "update",
            "status": "Failed",
            "success": False,
            "error": "RecordInvalid",
            "details": "Status: closed prevents ticket update",
        }
    ]
    assert tags_of(closed) == ["old"]


def test_an_unknown_ticket_fails_as_not_found(api):
    response = api.update_many([424242], {"additional_tags": ["new"]})

    result = response.json()["job_status"]["results"][0]
    assert result["id"] == 424242
    assert result["success"] is False
    assert result["error"] == "RecordNotFound"
    assert result["details"] == "Ticket not found"


def test_the_tags_call_adds_tags_to_one_ticket_and_keeps_the_others(api):
    ticket = make_ticket(tags=["keep"])
    other = make_ticket(tags=["keep"])

    response = api.put(f"tickets/{ticket.pk}/tags.json", {"tags": ["New Tag", "keep"]})

    assert response.status_code == 200
    assert response.json() == {"tags": ["keep", "new", "tag"]}
    assert tags_of(ticket) == ["keep", "new", "tag"]
    assert tags_of(other) == ["keep"]


def test_the_tags_call_refuses_a_closed_ticket_and_an_unknown_one(api):
    closed = make_ticket(status="closed", tags=["old"])

    refused = api.put(f"tickets/{closed.pk}/tags.json", {"tags": ["new"]})
    unknown = api.put("tickets/424242/tags.json", {"tags": ["new"]})

    assert refused.status_code == 422
    assert refused.json()["error"] == "RecordInvalid"
    assert tags_of(closed) == ["old"]
    assert unknown.status_code == 404


@pytest.mark.parametrize("body", [{}, {"tags": []}, {"tags": [1]}, ["a"]])
def test_the_tags_call_refuses_bodies_without_tags(api, body):
    ticket = make_ticket(tags=["keep"])

    response = api.put(f"tickets/{ticket.pk}/tags", body)

    assert response.status_code == 400
    assert tags_of(ticket) == ["keep"]


def test_the_tags_call_counts_against_the_rate_limit(api, clock, settings):
    settings.SANDBOX_RATE_LIMIT_PER_MINUTE = 2
    ticket = make_ticket()

    api.get("views/active.json")
    allowed = api.put(f"tickets/{ticket.pk}/tags.json", {"tags": ["a"]})
    refused = api.put(f"tickets/{ticket.pk}/tags.json", {"tags": ["b"]})

    assert allowed.status_code == 200
    assert refused.status_code == 429
    assert tags_of(ticket) == ["a"]


@pytest.mark.parametrize(
    "ids",
    ["", "?ids=", "?ids=1,two", "?ids=" + ",".join(str(n) for n in range(1, 102))],
)
def test_update_many_refuses_bad_id_lists(api, ids):
    response = api.put(f"tickets/update_many.json{ids}", {"ticket": {"tags": []}})

    assert response.status_code == 400
    assert response.json()["error"] == "InvalidValue"
    assert response.json()["description"]
    assert JobStatus.objects.count() == 0


@pytest.mark.parametrize(
    "body",
    [{"tickets": [{"id": 1}]}, {"ticket": {}}, {"ticket": {"due_at": "tomorrow"}}],
)
def test_update_many_refuses_bodies_it_cannot_apply(api, body):
    ticket = make_ticket()

    response = api.put(f"tickets/update_many.json?ids={ticket.pk}", body)

    assert response.status_code == 400


@pytest.mark.parametrize("path", ["tickets/show_many", "job_statuses/show_many"])
def test_show_many_refuses_more_than_100_ids(api, path):
    ids = ",".join(str(n) for n in range(1, 102))

    response = api.get(f"{path}.json", {"ids": ids})

    assert response.status_code == 400
    assert "at most 100" in response.json()["description"]


def test_only_the_listed_methods_are_allowed(api):
    response = api.get("tickets/update_many.json", {"ids": "1"})

    assert response.status_code == 405


# Job statuses


def test_a_job_reports_queued_then_working_then_completed(api, clock, settings):
    settings.SANDBOX_JOB_LATENCY_SECONDS = 10
    tickets = [make_ticket() for _ in range(4)]

    created = api.update_many([t.pk for t in tickets], {"additional_tags": ["x"]})
    job = created.json()["job_status"]
    clock.advance(6)
    working = api.get(f"job_statuses/{job['id']}.json").json()["job_status"]
    clock.advance(4)
    done = api.get(f"job_statuses/{job['id']}").json()["job_status"]

    assert (job["status"], job["progress"], job["results"]) == ("queued", 0, None)
    assert job["job_type"] == "bulk_update"
    assert job["url"] == f"http://testserver{API}/job_statuses/{job['id']}.json"
    assert working["status"] == "working"
    assert 0 < working["progress"] < 4
    assert done["status"] == "completed"
    assert done["progress"] == done["total"] == 4
    assert len(done["results"]) == 4
    # The changes landed when the job was created, not when it was polled.
    assert all(tags_of(ticket) == ["x"] for ticket in tickets)


def test_job_statuses_can_be_polled_together(api):
    ticket = make_ticket()
    responses = [api.update_many([ticket.pk], {"additional_tags": [t]}) for t in "ab"]
    ids = [response.json()["job_status"]["id"] for response in responses]

    response = api.get(
        "job_statuses/show_many.json", {"ids": f"{ids[1]},nope,{ids[0]}"}
    )

    statuses = response.json()["job_statuses"]
    assert [status["id"] for status in statuses] == [ids[1], ids[0]]
    assert all(status["status"] == "completed" for status in statuses)


def test_an_unknown_job_status_is_not_found(api):
    response = api.get("job_statuses/0123456789abcdef0123456789abcdef.json")

    assert response.status_code == 404


def test_too_many_jobs_in_flight_are_refused(api, clock, settings):
    settings.SANDBOX_JOB_LATENCY_SECONDS = 60
    settings.SANDBOX_MAX_QUEUED_JOBS = 2
    ticket = make_ticket()

    first = api.update_many([ticket.pk], {"additional_tags": ["a"]})
    clock.advance(5)
    second = api.update_many([ticket.pk], {"additional_tags": ["b"]})
    refused = api.update_many([ticket.pk], {"additional_tags": ["c"]})
    clock.advance(56)
    after_one_finished = api.update_many([ticket.pk], {"additional_tags": ["d"]})

    assert first["zendesk-ratelimit-inflight-jobs"].startswith("total=2; remaining=1")
    assert second["zendesk-ratelimit-inflight-jobs"].startswith("total=2; remaining=0")
    assert refused.status_code == 429
    body = refused.json()
    assert body["error"] == "TooManyJobs"
    assert body["description"]
    assert body["current_job_ids"] == [
        first.json()["job_status"]["id"],
        second.json()["job_status"]["id"],
    ]
    assert refused["Retry-After"] == "55"
    assert "c" not in tags_of(ticket)
    assert after_one_finished.status_code == 200


# Rate limit, faults and the request log


def test_the_rate_limit_answers_429_in_html_until_the_minute_ends(api, clock, settings):
    settings.SANDBOX_RATE_LIMIT_PER_MINUTE = 3

    allowed = [api.get("views/active.json") for _ in range(3)]
    refused = api.get("views/active.json")
    clock.advance(30)
    next_minute = api.get("views/active.json")

    assert [r.status_code for r in allowed] == [200, 200, 200]
    assert [r["X-Rate-Limit-Remaining"] for r in allowed] == ["2", "1", "0"]
    assert allowed[0]["X-Rate-Limit"] == allowed[0]["ratelimit-limit"] == "3"
    assert allowed[0]["ratelimit-remaining"] == "2"
    assert allowed[0]["ratelimit-reset"] == "30"
    assert refused.status_code == 429
    assert refused["Content-Type"].startswith("text/html")
    assert refused["Retry-After"] == "30"
    assert next_minute.status_code == 200


def test_an_injected_fault_is_served_then_the_endpoint_recovers(api):
    ticket = make_ticket()
    inject_fault("tickets/update_many", 503, times=2)

    responses = [
        api.update_many([ticket.pk], {"additional_tags": ["x"]}) for _ in range(3)
    ]

    assert [r.status_code for r in responses] == [503, 503, 200]
    assert responses[0].json()["error"] == "ServiceUnavailable"
    assert JobStatus.objects.count() == 1


def test_an_injected_429_looks_like_zendesk_throttling(api):
    inject_fault("views/active", 429, retry_after=7)

    throttled = api.get("views/active.json")
    other_path = api.get("tickets/show_many.json", {"ids": "1"})

    assert throttled.status_code == 429
    assert throttled["Content-Type"].startswith("text/html")
    assert throttled["Retry-After"] == "7"
    assert other_path.status_code == 200


def test_every_request_is_logged(api, client):
    ticket = make_ticket()
    api.get(f"tickets/{ticket.pk}.json")
    client.get(f"{API}/views/active")

    rows = list(
        RequestLog.objects.order_by("id").values_list("method", "path", "status_code")
    )

    assert rows == [
        ("GET", f"{API}/tickets/{ticket.pk}.json", 200),
        ("GET", f"{API}/views/active", 401),
    ]


# Data and plumbing


def test_the_seed_command_tops_up_and_never_duplicates_views():
    call_command("seed_sandbox", tickets=300, seed=7)
    views_first = View.objects.count()
    call_command("seed_sandbox", tickets=300, seed=7)

    assert Ticket.objects.count() == 300
    assert View.objects.count() == views_first

    call_command("seed_sandbox", tickets=350, seed=7)
    assert Ticket.objects.count() == 350

    call_command("seed_sandbox", tickets=200, seed=7, reset=True)
    assert Ticket.objects.count() == 200
    assert View.objects.count() == views_first


def test_seeded_tickets_look_real_and_are_stored_normalised():
    call_command("seed_sandbox", tickets=300, seed=3)

    tickets = list(Ticket.objects.all())
    statuses = {ticket.status for ticket in tickets}
    all_tags = [tag for ticket in tickets for tag in ticket.tag_list]

    assert statuses == {"new", "open", "pending", "hold", "solved", "closed"}
    assert all(ticket.tag_list == normalise_tags(ticket.tag_list) for ticket in tickets)
    assert all(tag == tag.lower() for tag in all_tags)
    assert any(len(ticket.tag_list) == 0 for ticket in tickets)
    assert View.objects.filter(title="Not yet reviewed").exists()


def test_the_router_keeps_sandbox_tables_in_their_own_database():
    router = SandboxRouter()

    assert router.db_for_read(Ticket) == "sandbox"
    assert router.db_for_write(Ticket) == "sandbox"
    assert router.db_for_read(User) is None
    assert router.allow_relation(Ticket(), User()) is False
    assert router.allow_migrate("sandbox", "sandbox") is True
    assert router.allow_migrate("default", "sandbox") is False
    assert router.allow_migrate("sandbox", "auth") is False
    assert router.allow_migrate("default", "auth") is None
