"""The job list's filters and polling, and the job page's results table,
cancel and retry pages."""

import datetime

import pytest
from django.utils import timezone

from accounts.roles import SUPERVISOR
from jobs.models import Job, TicketResult
from tests.job_helpers import job_row as make_job

pytestmark = pytest.mark.django_db

HX = {"HX-Request": "true"}


@pytest.fixture
def agent(make_user):
    return make_user("agent")


def listed(response) -> list[int]:
    return [row["job"].pk for row in response.context["rows"]]


def test_filters_narrow_the_list_and_stay_in_the_links(client, make_user, agent):
    boss = make_user("boss", SUPERVISOR)
    done = [make_job(agent, status=Job.Status.SUCCEEDED) for _ in range(30)]
    make_job(agent, status=Job.Status.FAILED)
    make_job(boss, status=Job.Status.SUCCEEDED)
    client.force_login(boss)

    first = client.get("/jobs/", {"status": "succeeded", "user": "agent"})
    second = client.get("/jobs/", {"status": "succeeded", "user": "agent", "page": 2})

    assert listed(first) + listed(second) == [job.pk for job in reversed(done)]
    html = first.content.decode()
    assert 'href="?status=succeeded&amp;user=agent&amp;page=2"' in html
    assert 'value="agent"' in html


def test_the_date_range_takes_whole_days(client, agent):
    old = make_job(agent)
    new = make_job(agent)
    Job.objects.filter(pk=old.pk).update(
        created_at=timezone.make_aware(datetime.datetime(2026, 11, 3, 23, 59))
    )
    Job.objects.filter(pk=new.pk).update(
        created_at=timezone.make_aware(datetime.datetime(2026, 11, 4, 0, 0))
    )
    client.force_login(agent)

    assert listed(client.get("/jobs/", {"until": "2026-11-03"})) == [old.pk]
    assert listed(client.get("/jobs/", {"since": "2026-11-04"})) == [new.pk]
    both = client.get("/jobs/", {"since": "2026-11-03", "until": "2026-11-04"})
    assert set(listed(both)) == {old.pk, new.pk}


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ({"status": "nonsense"}, "“nonsense” is not a job status."),
        ({"tool": "no-such"}, "There is no tool “no-such”."),
        ({"since": "yesterday"}, "Enter the first day as a date"),
        (
            {"since": "2026-12-05", "until": "2026-12-01"},
            "The last day comes before the first day.",
        ),
        ({"page": "many"}, ""),
    ],
)
def test_bad_filters_are_explained_not_a_server_error(client, agent, query, message):
    make_job(agent)
    client.force_login(agent)

    response = client.get("/jobs/", query)

    assert response.status_code == 200
    assert message in response.content.decode()
    assert len(listed(response)) == 1  # the bad filter is left out


def test_an_agent_lists_only_their_own_jobs(client, make_user, agent):
    mine = make_job(agent)
    make_job(make_user("other"))
    client.force_login(agent)

    assert listed(client.get("/jobs/")) == [mine.pk]
    assert listed(client.get("/jobs/", {"user": "other"})) == []


def test_the_table_polls_while_a_job_on_it_is_under_way(client, agent):
    job = make_job(agent, status=Job.Status.RUNNING)
    client.force_login(agent)

    polling = client.get("/jobs/?status=running", headers=HX)
    Job.objects.filter(pk=job.pk).update(status=Job.Status.SUCCEEDED)
    settled = client.get("/jobs/?status=running", headers=HX)
    all_done = client.get("/jobs/", headers=HX)

    html = polling.content.decode()
    assert 'id="job-table"' in html and "<h1>" not in html
    assert 'hx-get="/jobs/?status=running"' in html
    assert 'hx-trigger="every 3s"' in html
    assert "hx-trigger" not in settled.content.decode()
    assert "hx-trigger" not in all_done.content.decode()


def test_results_are_paged_and_filtered_by_outcome(client, agent):
    job = make_job(agent, status=Job.Status.COMPLETED_WITH_ERRORS, failed=60)
    TicketResult.objects.bulk_create(
        TicketResult(job=job, ticket_id=n, outcome="failed" if n % 2 else "updated")
        for n in range(1, 121)
    )
    client.force_login(agent)

    first = client.get(job.get_absolute_url())
    failed = client.get(job.get_absolute_url(), {"outcome": "failed", "page": 2})
    nonsense = client.get(job.get_absolute_url(), {"outcome": "<x>"})

    ids = [row["result"].ticket_id for row in first.context["result_rows"]]
    assert ids == list(range(1, 51))
    failed_ids = [row["result"].ticket_id for row in failed.context["result_rows"]]
    assert failed_ids == list(range(101, 121, 2))
    html = first.content.decode()
    assert "Failed (60)" in html and "Updated (60)" in html
    assert f'href="/jobs/{job.pk}/retry/"' in html
    assert nonsense.status_code == 200
    assert len(nonsense.context["result_rows"]) == 50


def test_cancelling_a_job_that_already_ended_says_so(client, agent):
    job = make_job(agent, status=Job.Status.SUCCEEDED)
    client.force_login(agent)

    answer = client.post(f"/jobs/{job.pk}/cancel/", headers=HX)
    plain = client.post(f"/jobs/{job.pk}/cancel/", follow=True)

    expected = f"Job {job.pk} had already ended (succeeded); there was nothing"
    assert expected in answer.content.decode()
    assert expected in plain.content.decode()
    assert Job.objects.get(pk=job.pk).status == Job.Status.SUCCEEDED


def test_the_cancel_button_shows_only_to_who_may_cancel(client, make_user, agent):
    operator = make_user("operator", "Operator")
    job = make_job(agent, status=Job.Status.RUNNING)

    client.force_login(agent)
    assert 'id="cancel-job"' in client.get(job.get_absolute_url()).content.decode()
    client.force_login(operator)
    assert 'id="cancel-job"' not in client.get(job.get_absolute_url()).content.decode()


def test_the_retry_page_lists_the_failed_tickets_first(client, agent):
    job = make_job(agent, status=Job.Status.COMPLETED_WITH_ERRORS, failed=2)
    for ticket_id, outcome in [(11, "updated"), (12, "failed"), (13, "failed")]:
        TicketResult.objects.create(job=job, ticket_id=ticket_id, outcome=outcome)
    client.force_login(agent)

    page = client.get(f"/jobs/{job.pk}/retry/")

    assert page.context["listed_ids"] == [12, 13]
    html = page.content.decode()
    assert "on these 2 tickets, and only these" in html
    assert "Retry 2 tickets" in html
    assert Job.objects.count() == 1  # asking starts nothing


@pytest.mark.parametrize(
    ("fields", "refusal"),
    [
        ({"status": Job.Status.RUNNING}, "still under way"),
        ({"status": Job.Status.SUCCEEDED}, "No ticket failed in this job"),
        ({"status": Job.Status.SUCCEEDED, "dry_run": True}, "A dry run changed"),
    ],
)
def test_a_retry_that_cannot_run_says_why(client, agent, fields, refusal):
    job = make_job(agent, **fields)
    client.force_login(agent)

    page = client.get(f"/jobs/{job.pk}/retry/").content.decode()
    posted = client.post(f"/jobs/{job.pk}/retry/", follow=True)

    assert refusal in page
    assert 'id="confirm-retry"' not in page
    assert posted.redirect_chain[-1][0] == job.get_absolute_url()
    assert Job.objects.count() == 1
