"""The Job admin: read-only pages, search by number or tag, linked results,
and actions that go through the same services as the job pages."""

import csv
import io

import pytest
from django.contrib import admin
from django.contrib.auth.models import Permission
from django.core.management import call_command
from django.test import RequestFactory
from django.utils import timezone

from accounts.roles import SUPERVISOR
from jobs.admin import JobAdmin
from jobs.models import Job, TicketResult
from tools.models import Tool
from tools.registry import get_tool

pytestmark = pytest.mark.django_db

CHANGELIST = "/admin/jobs/job/"


@pytest.fixture
def agent(make_user):
    return make_user("agent")


@pytest.fixture
def supervisor_client(client, make_user, rq_queue):
    # New jobs go to the queue rather than calling Zendesk from the test.
    Tool.objects.filter(slug="tag-manager").update(inline_ticket_limit=0)
    client.force_login(make_user("boss", SUPERVISOR, is_staff=True))
    return client


def make_job(user, *, tags=("vip",), **fields) -> Job:
    params = {
        "source": {"type": "view", "id": 1, "title": "Everything"},
        "operation": "add",
        "tags": list(tags),
        "limit": 100,
        "dry_run": False,
    }
    tool = get_tool("tag-manager").get_row()
    return Job.objects.create(tool=tool, created_by=user, params=params, **fields)


def finished_job(user, failed_ids=(2, 3), **fields) -> Job:
    job = make_job(
        user,
        status=Job.Status.COMPLETED_WITH_ERRORS,
        finished_at=timezone.now(),
        failed=len(failed_ids),
        **fields,
    )
    TicketResult.objects.create(job=job, ticket_id=1, outcome="updated")
    for ticket_id in failed_ids:
        TicketResult.objects.create(job=job, ticket_id=ticket_id, outcome="failed")
    return job


def run_action(client, name, jobs, **extra):
    data = {"action": name, "_selected_action": [job.pk for job in jobs], **extra}
    return client.post(CHANGELIST, data, follow=not extra.get("no_follow"))


def shown_messages(response) -> list[str]:
    return [str(message) for message in response.context["messages"]]


def test_every_admin_action_resolves_with_a_permission(admin_user):
    model_admin = admin.site._registry[Job]
    request = RequestFactory().get(CHANGELIST)
    request.user = admin_user

    offered = model_admin.get_actions(request)

    for name in JobAdmin.actions:
        function, resolved_name, _ = model_admin.get_action(name)
        assert resolved_name == name
        assert name in offered
        for permission in function.allowed_permissions:
            assert hasattr(model_admin, f"has_{permission}_permission")
    assert set(JobAdmin.actions) == {
        "cancel_jobs",
        "retry_failed_tickets",
        "export_results",
        "rerun_jobs",
    }


def test_djangos_system_checks_pass():
    call_command("check", fail_level="WARNING")


def test_a_staff_user_without_the_manage_permission_is_offered_no_change(
    client, make_user, agent
):
    viewer = make_user("viewer", None, is_staff=True)
    viewer.user_permissions.add(Permission.objects.get(codename="view_job"))
    job = make_job(agent, status=Job.Status.QUEUED)
    client.force_login(viewer)

    page = client.get(CHANGELIST)
    response = run_action(client, "cancel_jobs", [job])

    assert page.status_code == 200
    assert "cancel_jobs" not in page.content.decode()
    assert response.status_code == 200
    assert Job.objects.get(pk=job.pk).status == Job.Status.QUEUED


def test_cancel_action_ends_queued_jobs_and_leaves_ended_ones(supervisor_client, agent):
    queued = make_job(agent, status=Job.Status.QUEUED)
    ended = finished_job(agent)

    response = run_action(supervisor_client, "cancel_jobs", [queued, ended])

    assert Job.objects.get(pk=queued.pk).status == Job.Status.CANCELLED
    assert Job.objects.get(pk=ended.pk).status == Job.Status.COMPLETED_WITH_ERRORS
    assert shown_messages(response) == [
        f"Cancelled jobs {queued.pk}.",
        f"Jobs {ended.pk} had already ended; left as they were.",
    ]


def test_retry_action_starts_a_job_over_the_failed_tickets_only(
    supervisor_client, agent
):
    job = finished_job(agent, failed_ids=(4, 9))
    clean = finished_job(agent, failed_ids=())

    response = run_action(supervisor_client, "retry_failed_tickets", [job, clean])

    retry = Job.objects.get(retry_of=job)
    assert retry.params["source"] == {
        "type": "tickets",
        "ids": [4, 9],
        "title": f"retry of job {job.pk}: 2 failed tickets",
    }
    assert retry.params["tags"] == ["vip"]
    assert retry.created_by.username == "boss"
    assert not clean.retries.exists()
    assert shown_messages(response) == [
        f"Job {retry.pk} retries the failed tickets of job {job.pk}.",
        f"Job {clean.pk} has no failed tickets to retry.",
    ]


def test_export_action_streams_every_selected_jobs_results(supervisor_client, agent):
    first, second = finished_job(agent), finished_job(agent, failed_ids=(7,))

    response = run_action(
        supervisor_client, "export_results", [second, first], no_follow="1"
    )
    rows = list(
        csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode()))
    )

    assert response["Content-Type"].startswith("text/csv")
    assert [(int(r["job"]), int(r["ticket_id"])) for r in rows] == [
        (first.pk, 1),
        (first.pk, 2),
        (first.pk, 3),
        (second.pk, 1),
        (second.pk, 7),
    ]


def test_rerun_action_asks_first_then_starts_the_same_job_again(
    supervisor_client, agent
):
    job = finished_job(agent)

    asked = run_action(supervisor_client, "rerun_jobs", [job])
    assert asked.status_code == 200
    assert "Re-run these jobs?" in asked.content.decode()
    assert "add tag vip to view “Everything”" in asked.content.decode()
    assert Job.objects.count() == 1

    done = run_action(supervisor_client, "rerun_jobs", [job], post="yes")
    rerun = Job.objects.exclude(pk=job.pk).get()
    # The same parameters, and when the first job of the chain was made.
    assert rerun.params == {**job.params, "attempts_since": job.created_at.isoformat()}
    assert rerun.retry_of is None
    assert shown_messages(done) == [f"Job {rerun.pk} re-runs job {job.pk}."]


def test_rerun_of_a_job_still_running_is_refused(supervisor_client, agent):
    job = make_job(agent, status=Job.Status.RUNNING)

    done = run_action(supervisor_client, "rerun_jobs", [job], post="yes")

    assert Job.objects.count() == 1
    assert shown_messages(done) == [
        f"Job {job.pk} is running; re-run it once it has ended."
    ]


def test_search_finds_jobs_by_number_or_tag(supervisor_client, agent):
    vip = make_job(agent, tags=("vip", "billing"))
    other = make_job(agent, tags=("vipish",))

    def found(term):
        page = supervisor_client.get(CHANGELIST, {"q": term})
        return {job.pk for job in page.context["cl"].result_list}

    assert found("vip") == {vip.pk}
    assert found("BILLING") == {vip.pk}
    assert found(str(other.pk)) == {other.pk}
    assert found("nothing-like-it") == set()


def test_a_jobs_results_are_linked_and_listed_a_page_at_a_time(
    supervisor_client, agent
):
    job = finished_job(agent, failed_ids=range(2, 250))
    other = finished_job(agent)

    changelist = supervisor_client.get(CHANGELIST).content.decode()
    link = f"/admin/jobs/ticketresult/?job__id__exact={job.pk}"
    results = supervisor_client.get(link)
    failed_only = supervisor_client.get(link + "&outcome__exact=failed")

    assert link in changelist
    assert results.status_code == 200
    listed = results.context["cl"].result_list
    assert len(listed) == 100
    assert {result.job_id for result in listed} == {job.pk}
    assert failed_only.context["cl"].result_count == 248
    assert other.pk != job.pk


def test_the_job_admin_is_read_only(supervisor_client, agent):
    job = make_job(agent)

    page = supervisor_client.get(f"/admin/jobs/job/{job.pk}/change/")

    assert page.status_code == 200
    assert not page.context["has_change_permission"]
    assert "add tag vip to view “Everything”, limit 100" in page.content.decode()
    assert supervisor_client.get("/admin/jobs/job/add/").status_code == 403
