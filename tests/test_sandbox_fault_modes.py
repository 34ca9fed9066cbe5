"""The sandbox's fault modes, one by one, through its HTTP API."""

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from sandbox.bulk import FAILED_JOB_MESSAGE
from sandbox.fault_modes import OFF, current_modes, draw, hits, server_error_status
from sandbox.models import FaultModes, JobStatus, RequestLog
from tests.sandbox_api import API_TOKEN, EMAIL, Api, Clock
from tests.sandbox_data import make_tickets, tags_of

pytestmark = pytest.mark.django_db(databases=["default", "sandbox"])


@pytest.fixture(autouse=True)
def sandbox_settings(settings):
    settings.ZENDESK_EMAIL = EMAIL
    settings.ZENDESK_API_TOKEN = API_TOKEN
    settings.SANDBOX_RATE_LIMIT_PER_MINUTE = 0
    settings.SANDBOX_JOB_LATENCY_SECONDS = 10
    return settings


@pytest.fixture
def api(client) -> Api:
    return Api(client)


@pytest.fixture
def clock(monkeypatch) -> Clock:
    frozen = Clock()
    monkeypatch.setattr(timezone, "now", lambda: frozen.now)
    return frozen


def statuses_of(api: Api, calls: int) -> list[int]:
    return [api.get("views/active.json").status_code for _ in range(calls)]


# Off by default, settings, and the row that replaces them


def test_every_mode_is_off_by_default(api):
    ticket_ids = make_tickets(20)

    assert current_modes(timezone.now()) == OFF
    assert statuses_of(api, 10) == [200] * 10
    job = api.add_tags(ticket_ids, ["vip"]).json()["job_status"]
    assert JobStatus.objects.get().fate == JobStatus.Fate.COMPLETED
    assert api.get(f"job_statuses/{job['id']}.json").status_code == 200
    assert all("vip" in tags for tags in tags_of(ticket_ids).values())


def test_a_saved_row_replaces_the_settings_until_it_is_deleted(api, settings):
    settings.SANDBOX_FAULT_THROTTLE_RATE = 1.0

    from_settings = statuses_of(api, 2)
    row = FaultModes.objects.create(server_error_rate=1.0, seed=3)
    from_row = statuses_of(api, 2)
    row.delete()
    settings_again = statuses_of(api, 1)

    assert from_settings == [429, 429]
    assert all(status in (500, 502, 503) for status in from_row)
    assert settings_again == [429]


def test_there_is_only_ever_one_row():
    FaultModes.objects.create(throttle_rate=0.5)
    FaultModes(job_fail_rate=1.0).save()

    assert FaultModes.objects.count() == 1
    assert FaultModes.objects.get().job_fail_rate == 1.0


def test_modes_with_an_end_switch_themselves_off(api, clock):
    FaultModes.objects.create(
        throttle_rate=1.0, active_until=clock.now + timedelta(seconds=5)
    )

    during = statuses_of(api, 2)
    clock.advance(5)
    after = statuses_of(api, 2)

    assert during == [429, 429]
    assert after == [200, 200]


def test_draws_depend_only_on_their_arguments():
    first = [draw(7, "throttle", n) for n in range(50)]

    assert first == [draw(7, "throttle", n) for n in range(50)]
    assert first != [draw(8, "throttle", n) for n in range(50)]
    assert all(0 <= value < 1 for value in first)
    assert not hits(7, "throttle", 1, 0.0)
    assert hits(7, "throttle", 1, 1.0)


# A 429 storm


def test_a_share_of_calls_is_throttled_exactly_as_drawn(api, settings):
    settings.SANDBOX_FAULT_THROTTLE_RATE = 0.4
    settings.SANDBOX_FAULT_SEED = 11

    statuses = statuses_of(api, 30)

    expected = [429 if hits(11, "throttle", n, 0.4) else 200 for n in range(1, 31)]
    assert statuses == expected
    assert 0 < statuses.count(429) < 30


def test_a_throttled_call_looks_like_zendesk_throttling(api, settings):
    settings.SANDBOX_FAULT_THROTTLE_RATE = 1.0
    settings.SANDBOX_FAULT_RETRY_AFTER_SECONDS = 7
    ticket_ids = make_tickets(3)

    response = api.add_tags(ticket_ids, ["vip"])

    assert response.status_code == 429
    assert response["Content-Type"].startswith("text/html")
    assert b"Too Many Requests" in response.content
    assert response["Retry-After"] == "7"
    assert JobStatus.objects.count() == 0
    assert all("vip" not in tags for tags in tags_of(ticket_ids).values())


# A 5xx rate


def test_a_share_of_calls_fails_with_500_502_or_503_as_drawn(api, settings):
    settings.SANDBOX_FAULT_SERVER_ERROR_RATE = 0.5
    settings.SANDBOX_FAULT_SEED = 5

    statuses = statuses_of(api, 40)

    expected = [
        server_error_status(5, n) if hits(5, "server_error", n, 0.5) else 200
        for n in range(1, 41)
    ]
    assert statuses == expected
    assert {500, 502, 503} <= set(statuses)
    assert 200 in statuses
    logged = list(
        RequestLog.objects.order_by("id").values_list("status_code", flat=True)
    )
    assert logged == statuses


def test_a_failed_update_changes_nothing(api, settings):
    settings.SANDBOX_FAULT_SERVER_ERROR_RATE = 1.0
    ticket_ids = make_tickets(3)

    response = api.add_tags(ticket_ids, ["vip"])

    assert response.status_code in (500, 502, 503)
    assert response.json()["description"].startswith("Sandbox fault")
    assert JobStatus.objects.count() == 0
    assert all("vip" not in tags for tags in tags_of(ticket_ids).values())


# Slow answers


@pytest.fixture
def sleeps(monkeypatch) -> list[float]:
    taken: list[float] = []
    monkeypatch.setattr("sandbox.fault_modes.time.sleep", taken.append)
    return taken


def test_answers_are_held_back_on_the_chosen_paths_only(api, settings, sleeps):
    settings.SANDBOX_FAULT_DELAY_SECONDS = 2.5
    settings.SANDBOX_FAULT_DELAY_PATHS = ["job_statuses", "update_many"]
    ticket_ids = make_tickets(2)

    api.get("views/active.json")
    job = api.add_tags(ticket_ids, ["vip"]).json()["job_status"]
    api.get(f"job_statuses/{job['id']}.json")
    api.get("tickets/show_many.json", {"ids": "1"})

    assert sleeps == [2.5, 2.5]
    # The work is done before the answer waits.
    assert all("vip" in tags for tags in tags_of(ticket_ids).values())


def test_without_paths_every_answer_is_held_back(api, settings, sleeps):
    settings.SANDBOX_FAULT_DELAY_SECONDS = 0.5

    statuses_of(api, 3)

    assert sleeps == [0.5, 0.5, 0.5]


# Job statuses that fail, stay queued or vanish


def test_a_failing_job_changes_nothing_and_ends_failed(api, clock, settings):
    settings.SANDBOX_FAULT_JOB_FAIL_RATE = 1.0
    ticket_ids = make_tickets(3)

    created = api.add_tags(ticket_ids, ["vip"]).json()["job_status"]
    clock.advance(10)
    ended = api.get(f"job_statuses/{created['id']}.json").json()["job_status"]

    assert created["status"] == "queued"
    assert ended["status"] == "failed"
    assert ended["message"] == FAILED_JOB_MESSAGE
    assert ended["results"] is None
    assert all("vip" not in tags for tags in tags_of(ticket_ids).values())


def test_a_stuck_job_stays_queued_for_ever(api, clock, settings):
    settings.SANDBOX_FAULT_JOB_STUCK_RATE = 1.0
    ticket_ids = make_tickets(3)

    created = api.add_tags(ticket_ids, ["vip"]).json()["job_status"]
    clock.advance(24 * 60 * 60)
    later = api.get("job_statuses/show_many.json", {"ids": created["id"]}).json()

    assert [job["status"] for job in later["job_statuses"]] == ["queued"]
    assert later["job_statuses"][0]["results"] is None
    assert all("vip" not in tags for tags in tags_of(ticket_ids).values())


def test_a_vanished_job_did_its_work_but_is_unknown_afterwards(api, settings):
    settings.SANDBOX_FAULT_JOB_VANISH_RATE = 1.0
    ticket_ids = make_tickets(3)

    created = api.add_tags(ticket_ids, ["vip"])
    job_id = created.json()["job_status"]["id"]
    shown = api.get(f"job_statuses/{job_id}.json")
    listed = api.get("job_statuses/show_many.json", {"ids": job_id})

    assert created.status_code == 200
    assert shown.status_code == 404
    assert listed.json() == {"job_statuses": []}
    assert all("vip" in tags for tags in tags_of(ticket_ids).values())


def test_job_fates_are_drawn_by_job_number(api, settings):
    settings.SANDBOX_FAULT_JOB_FAIL_RATE = 0.3
    settings.SANDBOX_FAULT_JOB_STUCK_RATE = 0.3
    settings.SANDBOX_FAULT_JOB_VANISH_RATE = 0.3
    settings.SANDBOX_FAULT_SEED = 2
    ticket_ids = make_tickets(1)

    for _ in range(20):
        api.add_tags(ticket_ids, ["vip"])

    fates = list(
        JobStatus.objects.order_by("created_at").values_list("fate", flat=True)
    )
    modes = current_modes(timezone.now())
    expected = [modes.job_fate(n) for n in range(1, 21)]
    assert fates == expected
    assert set(expected) == set(JobStatus.Fate.values)


# TooManyJobs


def test_a_full_job_queue_refuses_every_update(api, clock, settings):
    settings.SANDBOX_FAULT_RETRY_AFTER_SECONDS = 4
    FaultModes.objects.create(
        too_many_jobs=True, active_until=clock.now + timedelta(seconds=3)
    )
    ticket_ids = make_tickets(3)

    refused = api.add_tags(ticket_ids, ["vip"])
    clock.advance(3)
    accepted = api.add_tags(ticket_ids, ["vip"])

    assert refused.status_code == 429
    body = refused.json()
    assert body["error"] == "TooManyJobs"
    assert len(body["current_job_ids"]) == 30
    assert refused["Retry-After"] == "3"
    assert refused["zendesk-ratelimit-inflight-jobs"] == (
        "total=30; remaining=0; resets=3"
    )
    assert accepted.status_code == 200
    assert JobStatus.objects.count() == 1


def test_without_an_end_a_full_queue_asks_for_the_configured_wait(api, settings):
    settings.SANDBOX_FAULT_TOO_MANY_JOBS = True
    settings.SANDBOX_FAULT_RETRY_AFTER_SECONDS = 4
    ticket_ids = make_tickets(3)

    refused = api.add_tags(ticket_ids, ["vip"])
    other_calls = api.get("tickets/show_many.json", {"ids": ticket_ids[0]})

    assert refused.status_code == 429
    assert refused["Retry-After"] == "4"
    assert other_calls.status_code == 200
    assert all("vip" not in tags for tags in tags_of(ticket_ids).values())


# Tickets failing inside a job


def test_a_share_of_tickets_fails_inside_the_job_and_stays_unchanged(
    api, clock, settings
):
    settings.SANDBOX_FAULT_TICKET_FAIL_RATE = 0.1
    settings.SANDBOX_FAULT_SEED = 9
    ticket_ids = make_tickets(100)

    job_id = api.add_tags(ticket_ids, ["vip"]).json()["job_status"]["id"]
    clock.advance(10)
    job = api.get(f"job_statuses/{job_id}.json").json()["job_status"]

    chosen = {pk for pk in ticket_ids if hits(9, "ticket_fail", pk, 0.1)}
    assert 0 < len(chosen) < 100
    failed = {r["id"] for r in job["results"] if not r["success"]}
    assert failed == chosen
    failure = next(r for r in job["results"] if not r["success"])
    assert failure["error"] == "UpdateConflict"
    assert failure["details"]
    tags = tags_of(ticket_ids)
    assert {pk for pk in ticket_ids if "vip" not in tags[pk]} == chosen


# Changed at run time, through the admin


@pytest.fixture
def superuser_client(django_user_model) -> Client:
    user = django_user_model.objects.create_superuser("root", password="unused-pw-1")
    client = Client()
    client.force_login(user)
    return client


def test_the_admin_starts_a_row_from_the_settings(superuser_client, settings):
    settings.SANDBOX_FAULT_TICKET_FAIL_RATE = 0.25
    settings.SANDBOX_FAULT_DELAY_PATHS = ["update_many", "job_statuses"]

    page = superuser_client.get("/admin/sandbox/faultmodes/add/")

    assert page.status_code == 200
    form = page.context["adminform"].form
    assert form.initial["ticket_fail_rate"] == 0.25
    assert form.initial["delay_paths"] == "update_many, job_statuses"


def test_a_row_saved_in_the_admin_takes_effect_at_once(superuser_client, api):
    ticket_ids = make_tickets(2)
    fields = {
        "throttle_rate": "0",
        "retry_after_seconds": "10",
        "server_error_rate": "0",
        "delay_seconds": "0",
        "delay_paths": "",
        "job_fail_rate": "0",
        "job_stuck_rate": "0",
        "job_vanish_rate": "0",
        "ticket_fail_rate": "0",
        "seed": "0",
        "active_until_0": "",
        "active_until_1": "",
    }

    before = api.add_tags(ticket_ids, ["a"])
    saved = superuser_client.post(
        "/admin/sandbox/faultmodes/add/", fields | {"too_many_jobs": "on"}
    )
    after = api.add_tags(ticket_ids, ["b"])
    second_add = superuser_client.get("/admin/sandbox/faultmodes/add/")

    assert before.status_code == 200
    assert saved.status_code == 302
    assert FaultModes.objects.get().too_many_jobs
    assert after.status_code == 429
    assert after.json()["error"] == "TooManyJobs"
    assert second_add.status_code == 302
    assert second_add["Location"] == "/admin/sandbox/faultmodes/1/change/"


def test_a_rate_above_one_is_refused_by_the_admin(superuser_client):
    response = superuser_client.post(
        "/admin/sandbox/faultmodes/add/",
        {"throttle_rate": "1.5", "retry_after_seconds": "10", "seed": "0"},
    )

    assert response.status_code == 200
    assert "throttle_rate" in response.context["adminform"].form.errors
    assert not FaultModes.objects.exists()


def test_staff_who_are_not_superusers_cannot_see_the_modes(django_user_model):
    user = django_user_model.objects.create_user(
        "staff", password="unused-pw-1", is_staff=True
    )
    client = Client()
    client.force_login(user)
    FaultModes.objects.create()

    changelist = client.get("/admin/sandbox/faultmodes/")
    change = client.get("/admin/sandbox/faultmodes/1/change/")
    index = client.get("/admin/")

    assert changelist.status_code == 403
    assert change.status_code == 403
    assert b"Fault modes" not in index.content
