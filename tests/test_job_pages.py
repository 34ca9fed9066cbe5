"""The job page and its polled fragment."""

import pytest
from django.utils import timezone

from jobs.models import Job
from tests.job_helpers import job_row

PARAMS = {
    "source": {"type": "view", "id": 7, "title": "Open tickets"},
    "operation": "add",
    "tags": ["vip", "billing"],
    "limit": 10_000,
    "dry_run": False,
}


@pytest.fixture
def agent(make_user):
    return make_user("agent")


def page_job(user, **fields) -> Job:
    """A job row adding two tags to "Open tickets", as the pages show it."""
    return job_row(user, **{"params": PARAMS, **fields})


def fragment(client, job):
    return client.get(job.get_absolute_url(), headers={"HX-Request": "true"})


@pytest.mark.django_db
def test_a_running_job_fragment_polls_itself(client, agent):
    job = page_job(
        agent,
        status=Job.Status.RUNNING,
        phase=Job.Phase.UPDATING,
        started_at=timezone.now() - timezone.timedelta(seconds=10),
        total=1_000,
        processed=400,
        succeeded=350,
        unchanged=50,
    )
    client.force_login(agent)

    html = fragment(client, job).content.decode()

    assert 'hx-trigger="every 2s"' in html
    assert f'hx-get="{job.get_absolute_url()}"' in html
    assert "400 / 1,000" in html
    assert 'value="40"' in html
    assert "Time left" in html


@pytest.mark.django_db
@pytest.mark.parametrize(
    "status",
    [Job.Status.SUCCEEDED, Job.Status.COMPLETED_WITH_ERRORS, Job.Status.FAILED],
)
def test_a_finished_job_fragment_stops_polling(client, agent, status):
    now = timezone.now()
    job = page_job(
        agent,
        status=status,
        phase=Job.Phase.DONE,
        started_at=now - timezone.timedelta(minutes=2),
        finished_at=now,
        total=1_000,
        processed=1_000,
        succeeded=990,
        failed=10,
    )
    client.force_login(agent)

    response = fragment(client, job)
    html = response.content.decode()

    assert "hx-trigger" not in html
    assert "hx-get" not in html
    assert "1,000 / 1,000" in html
    assert "Took</dt><dd>2 min 0 s" in html
    # The page that was polling reloads once to show the results table.
    assert response["HX-Refresh"] == "true"


@pytest.mark.django_db
def test_a_job_that_failed_before_finding_tickets_shows_no_progress(client, agent):
    job = page_job(
        agent,
        status=Job.Status.FAILED,
        phase=Job.Phase.DONE,
        started_at=timezone.now(),
        finished_at=timezone.now(),
        error_message="Zendesk refused the configured credentials.",
    )
    client.force_login(agent)

    html = fragment(client, job).content.decode()

    assert 'value="0"' in html
    assert "0 / 0" in html
    assert "Zendesk refused the configured credentials." in html


@pytest.mark.django_db
def test_the_job_page_describes_the_job_in_words(client, agent):
    job = page_job(agent)
    client.force_login(agent)

    html = client.get(job.get_absolute_url()).content.decode()

    assert "Add tags vip, billing to view “Open tickets”, limit 10,000" in html
    assert 'id="job-progress"' in html


@pytest.mark.django_db
def test_an_agent_cannot_see_another_agents_job(client, agent, django_user_model):
    other = django_user_model.objects.create_user("other", password="unused-pw-2")
    job = page_job(agent)
    client.force_login(other)

    assert client.get(job.get_absolute_url()).status_code == 404
    assert job.get_absolute_url() not in client.get("/jobs/").content.decode()


@pytest.mark.django_db
@pytest.mark.parametrize("url", ["/", "/jobs/", "/tools/tag-manager/"])
def test_anonymous_visitors_are_sent_to_log_in(client, url):
    response = client.get(url)

    assert response.status_code == 302
    assert response["Location"].startswith("/login/")


@pytest.mark.django_db
def test_job_output_is_escaped(client, agent):
    job = page_job(
        agent,
        status=Job.Status.FAILED,
        error_message="<script>alert(1)</script>",
        params={**PARAMS, "source": {"type": "view", "id": 1, "title": "<b>x</b>"}},
    )
    client.force_login(agent)

    html = client.get(job.get_absolute_url()).content.decode()

    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;" in html
    assert "<b>x</b>" not in html


@pytest.mark.django_db
# Tools are changed in the admin (tests/test_tool_admin.py); jobs only seen.
@pytest.mark.parametrize("url", ["/admin/jobs/job/"])
def test_staff_see_jobs_and_tools_in_the_admin_read_only(
    client, agent, django_user_model, url
):
    page_job(agent)
    boss = django_user_model.objects.create_superuser("boss", password="unused-pw-4")

    client.force_login(agent)
    assert client.get(url).status_code == 302  # to the admin's own log-in

    client.force_login(boss)
    page = client.get(url)
    assert page.status_code == 200
    assert not page.context["has_add_permission"]
    model_admin = page.context["cl"].model_admin
    request = page.wsgi_request
    assert not model_admin.has_change_permission(request)
    assert not model_admin.has_delete_permission(request)


@pytest.mark.django_db
def test_an_htmx_poll_after_the_session_ended_reloads_to_the_login_page(client, agent):
    job = page_job(agent, status=Job.Status.RUNNING)

    response = fragment(client, job)

    assert response.status_code == 200
    assert response["HX-Redirect"].startswith("/login/")
    assert response.content == b""


@pytest.mark.django_db
def test_the_job_list_says_what_each_job_does(client, agent):
    page_job(agent, estimated_total=1_234)
    page_job(agent, status=Job.Status.SUCCEEDED, dry_run=True, total=5, processed=5)
    client.force_login(agent)

    html = client.get("/jobs/").content.decode()

    assert html.count("Add tags vip, billing to view “Open tickets”") == 2
    assert "0 / about 1,234" in html
    assert "Dry run: succeeded" in html


@pytest.mark.django_db
def test_no_page_shows_the_zendesk_secret(client, agent, settings):
    settings.ZENDESK_API_TOKEN = "very-secret-token-value"
    job = page_job(agent, error_message="Zendesk refused the configured credentials.")
    client.force_login(agent)

    for url in ["/", "/jobs/", job.get_absolute_url(), "/tools/tag-manager/"]:
        assert "very-secret-token-value" not in client.get(url).content.decode()


@pytest.mark.django_db
def test_not_found_pages_speak_plainly(client, agent):
    client.force_login(agent)

    unknown_url = client.get("/no/such/page/")
    unknown_tool = client.get("/tools/no-such-tool/")

    assert unknown_url.status_code == 404
    assert "There is nothing at this address." in unknown_url.content.decode()
    assert "Resolver404" not in unknown_url.content.decode()
    assert "There is no tool with that name." in unknown_tool.content.decode()


@pytest.mark.django_db
def test_a_resumed_job_waiting_again_shows_how_far_it_got(client, agent):
    job = page_job(
        agent,
        status=Job.Status.QUEUED,
        phase=Job.Phase.UPDATING,
        total=5_000,
        processed=1_500,
        resumed_count=1,
    )
    client.force_login(agent)

    text = fragment(client, job).content.decode()
    assert "1,500 / 5,000" in text
    assert "go on where it stopped" in text
    assert "Resumed 1 time after its run stopped" in text


@pytest.mark.django_db
def test_a_running_job_gone_quiet_says_so(client, agent, settings):
    quiet = timezone.timedelta(seconds=5 * settings.JOB_HEARTBEAT_SECONDS)
    job = page_job(
        agent,
        status=Job.Status.RUNNING,
        phase=Job.Phase.UPDATING,
        total=100,
        processed=10,
        heartbeat_at=timezone.now() - quiet,
    )
    client.force_login(agent)

    html = fragment(client, job).content.decode()

    assert "No word from the worker running this job" in html


@pytest.mark.django_db
def test_a_resumed_jobs_rate_counts_only_its_current_run(client, agent):
    now = timezone.now()
    job = page_job(
        agent,
        status=Job.Status.RUNNING,
        phase=Job.Phase.UPDATING,
        started_at=now - timezone.timedelta(hours=1),
        run_started_at=now - timezone.timedelta(seconds=100),
        processed_at_run_start=600,
        total=2_000,
        processed=1_600,
        resumed_count=1,
    )
    client.force_login(agent)

    html = fragment(client, job).content.decode()

    assert "10.0 tickets/s" in html  # not 1,600 in an hour
    assert "about 40 s" in html


@pytest.mark.django_db
def test_a_job_that_failed_while_collecting_says_its_list_is_incomplete(client, agent):
    job = page_job(
        agent,
        status=Job.Status.FAILED,
        phase=Job.Phase.COLLECTING,
        total=4_000,
        processed=4_000,
        failed=4_000,
        error_message="Zendesk could not be reached",
    )
    client.force_login(agent)

    html = fragment(client, job).content.decode()

    assert "stopped while collecting tickets: 4,000 found" in html
    assert 'value="0"' in html
