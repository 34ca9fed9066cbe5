"""The Tag Manager form: every bad input gets its message and starts nothing."""

import pytest
from django.test import Client
from django.urls import reverse

from jobs.models import Job
from sandbox.models import RequestLog
from tests.sandbox_data import make_tickets, make_view, tags_of
from tools.models import Tool

pytestmark = pytest.mark.django_db(transaction=True, databases=["default", "sandbox"])

FORM_URL = reverse("tools:form", args=["tag-manager"])


@pytest.fixture
def view(sandbox_url):
    sandbox_view = make_view("Everything")
    sandbox_view.ticket_ids = make_tickets(30)
    return sandbox_view


def post(client, sandbox_view, changes: dict | None = None):
    data = {"view": sandbox_view.pk, "operation": "add", "tags": "vip", "limit": "100"}
    data.update(changes or {})
    return client.post(FORM_URL, {k: v for k, v in data.items() if v is not None})


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"tags": ""}, "tags", "Enter at least one tag."),
        ({"tags": " , ,\n"}, "tags", "Enter at least one tag."),
        (
            {"tags": "vip, <script>"},
            "tags",
            "“<script>” has characters a tag cannot hold",
        ),
        ({"tags": "a" * 81}, "tags", "is longer than 80 characters"),
        ({"limit": "0"}, "limit", "The ticket limit must be at least 1."),
        ({"limit": "-5"}, "limit", "The ticket limit must be at least 1."),
        (
            {"limit": "50001"},
            "limit",
            "This tool changes at most 50,000 tickets a run.",
        ),
        ({"limit": "ten"}, "limit", "Enter the ticket limit as a whole number."),
        ({"limit": None}, "limit", "Enter how many tickets to change at most."),
        ({"view": "999999"}, "view", "Choose one of the active views in the list."),
        ({"view": "abc"}, "view", "Choose one of the active views in the list."),
        ({"view": None}, "view", "Choose a view."),
        ({"operation": "replace"}, "operation", "Select a valid choice."),
    ],
)
def test_bad_input_gets_a_field_error_and_enqueues_nothing(
    agent_client, view, rq_queue, changes, field, message
):
    response = post(agent_client, view, changes)

    assert response.status_code == 200
    assert message in " ".join(response.context["form"].errors[field])
    assert Job.objects.count() == 0
    assert rq_queue.count == 0


def test_the_tags_are_shown_back_as_zendesk_will_store_them(agent_client):
    response = agent_client.post(
        reverse("tools:preview-tags"), {"tags": "VIP, Priority Customer"}
    )

    assert response.status_code == 200
    html = response.content.decode()
    for tag in ("vip", "priority", "customer"):
        assert f'<code class="tag">{tag}</code>' in html
    assert "VIP" not in html


def test_a_small_run_happens_in_the_request(agent_client, view, rq_queue):
    response = post(agent_client, view, {"tags": "Small Batch"})

    job = Job.objects.get()
    assert response.status_code == 302
    assert response["Location"] == job.get_absolute_url()
    assert job.status == Job.Status.SUCCEEDED
    assert (job.total, job.succeeded) == (30, 30)
    assert job.params["tags"] == ["small", "batch"]
    assert rq_queue.count == 0


def test_a_run_above_the_inline_limit_is_queued_and_first_polls_as_queued(
    agent_client, view, rq_queue
):
    Tool.objects.filter(slug="tag-manager").update(inline_ticket_limit=10)

    response = agent_client.post(
        FORM_URL,
        {"view": view.pk, "operation": "add", "tags": "vip", "limit": "100"},
        headers={"HX-Request": "true"},
    )

    job = Job.objects.get()
    assert response.status_code == 200
    assert response["HX-Redirect"] == job.get_absolute_url()
    assert rq_queue.job_ids == [job.rq_job_id]

    poll = agent_client.get(job.get_absolute_url(), headers={"HX-Request": "true"})
    html = poll.content.decode()
    assert poll.status_code == 200
    assert "<strong>Queued</strong>" in html
    assert "0 / about 30" in html
    assert 'hx-trigger="every 2s"' in html


def test_a_dry_run_changes_nothing(agent_client, view, rq_queue):
    closed_ids = make_tickets(3, status=lambda n: "closed")
    tagged_ids = make_tickets(5, tags=lambda n: ["base", "vip"])

    response = post(agent_client, view, {"dry_run": "on"})

    job = Job.objects.get()
    assert response.status_code == 302
    assert job.dry_run
    assert job.status == Job.Status.SUCCEEDED
    assert (job.total, job.would_change, job.unchanged, job.failed) == (38, 30, 5, 3)
    every_id = view.ticket_ids + closed_ids + tagged_ids
    assert all("vip" not in tags for tags in tags_of(view.ticket_ids).values())
    assert len(tags_of(every_id)) == 38
    assert not RequestLog.objects.filter(path__contains="update_many").exists()

    page = agent_client.get(job.get_absolute_url()).content.decode()
    assert "Would change" in page
    assert "Would fail" in page
    assert '<code class="tag added">vip</code>' in page


def test_posts_without_the_csrf_token_are_refused(make_user, view, rq_queue):
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(make_user("csrf"))
    data = {"view": view.pk, "operation": "add", "tags": "vip", "limit": "100"}

    plain = strict.post(FORM_URL, data)
    htmx = strict.post(FORM_URL, data, headers={"HX-Request": "true"})
    preview = strict.post(reverse("tools:preview-tags"), {"tags": "vip"})

    assert (plain.status_code, htmx.status_code, preview.status_code) == (403, 403, 403)
    assert Job.objects.count() == 0


def test_htmx_posts_carry_the_token_in_a_header(make_user, view, rq_queue):
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(make_user("csrf"))
    page = strict.get(FORM_URL)
    token = page.context["csrf_token"]
    assert f'"X-CSRFToken": "{token}"' in page.content.decode()

    response = strict.post(
        reverse("tools:preview-tags"),
        {"tags": "vip"},
        headers={"HX-Request": "true", "X-CSRFToken": str(token)},
    )

    assert response.status_code == 200


def test_an_empty_post_gets_every_required_field_named(agent_client, view, rq_queue):
    response = agent_client.post(FORM_URL, {})

    errors = response.context["form"].errors
    assert errors["view"] == ["Choose a view."]
    assert errors["tags"] == ["Enter at least one tag."]
    assert errors["limit"] == ["Enter how many tickets to change at most."]
    assert Job.objects.count() == 0


def test_when_views_cannot_be_loaded_the_page_says_so_once(
    agent_client, sandbox_url, settings, rq_queue
):
    settings.ZENDESK_API_TOKEN = ""

    response = agent_client.post(FORM_URL, {"view": "1", "tags": "vip"})

    html = response.content.decode()
    assert response.status_code == 200
    assert "The list of views could not be loaded from Zendesk" in html
    assert "Choose one of the active views" not in html
    assert "vip</textarea>" in html
    assert Job.objects.count() == 0
