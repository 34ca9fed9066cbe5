"""Picking tickets by search or by a list of ids in the Tag Manager form,
through to the sandbox over real HTTP and a real worker."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from jobs.models import Job, TicketResult
from sandbox.faults import inject_fault
from sandbox.models import RequestLog, Ticket
from tests.job_helpers import outcomes
from tests.sandbox_data import make_tickets, make_view, tags_of
from tools.models import Tool

pytestmark = pytest.mark.django_db(transaction=True, databases=["default", "sandbox"])

FORM_URL = reverse("tools:form", args=["tag-manager"])
Outcome = TicketResult.Outcome


def post(client, source: dict, *, htmx: bool = False, **changes):
    data = {"operation": "add", "tags": "picked", "limit": "10000", **source}
    headers = {"HX-Request": "true"} if htmx else {}
    return client.post(FORM_URL, {**data, **changes}, headers=headers)


def search(query: str) -> dict:
    return {"source": "search", "query": query}


def pasted(text: str) -> dict:
    return {"source": "tickets", "ticket_ids": text}


def field_errors(response, field: str) -> list[str]:
    return response.context["form"].errors.get(field, [])


def test_a_search_of_2500_tickets_is_collected_whole_by_a_worker(
    agent_client, sandbox_url, rq_queue, run_worker
):
    wanted = make_tickets(2500, tags=lambda n: ["base", "export_me"])
    others = make_tickets(40, tags=lambda n: ["base"])
    Tool.objects.filter(slug="tag-manager").update(inline_ticket_limit=100)

    response = post(agent_client, search("tags:export_me status<solved"), htmx=True)
    job = Job.objects.get()
    assert response["HX-Redirect"] == job.get_absolute_url()
    assert job.status == Job.Status.QUEUED
    assert job.estimated_total == 2500
    run_worker()

    job.refresh_from_db()
    assert job.status == Job.Status.SUCCEEDED
    assert outcomes(job) == {Outcome.UPDATED: 2500}
    assert all("picked" in tags for tags in tags_of(wanted).values())
    assert not any("picked" in tags for tags in tags_of(others).values())
    # Collected through the export's cursors, never the capped search.json.
    exports = RequestLog.objects.filter(path__endswith="/search/export.json")
    assert exports.count() == 25
    assert not RequestLog.objects.filter(path__endswith="/search.json").exists()
    page = agent_client.get(job.get_absolute_url()).content.decode()
    assert "search “tags:export_me status&lt;solved”" in page


def test_the_limit_stops_a_search_early(agent_client, sandbox_url, rq_queue):
    make_tickets(30)

    post(agent_client, search("status:open"), limit="12")

    job = Job.objects.get()
    assert job.total == 12
    assert job.estimated_total == 12


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("", "Enter a search query."),
        ("   ", "Enter a search query."),
        ("priority:high", "Zendesk cannot run this search: “priority” is not a field"),
        ('"open', "Zendesk cannot run this search: The search query is malformed"),
        ("tags:nobody_has_this", "No tickets match this search."),
    ],
)
def test_a_search_that_cannot_run_is_refused_before_anything_starts(
    agent_client, sandbox_url, rq_queue, query, message
):
    make_tickets(5)

    response = post(agent_client, search(query))

    assert response.status_code == 200
    assert message in " ".join(field_errors(response, "query"))
    assert Job.objects.count() == 0
    assert rq_queue.count == 0


def test_a_search_query_too_long_gets_one_message(agent_client, sandbox_url):
    response = post(agent_client, search("tags:x " * 200))

    errors = field_errors(response, "query")
    assert len(errors) == 1
    assert "at most 1000 characters" in errors[0]
    assert RequestLog.objects.filter(path__contains="search").count() == 0


def test_a_pasted_list_with_junk_is_refused_line_by_line(
    agent_client, sandbox_url, rq_queue
):
    response = post(agent_client, pasted("101, 102\n103 abc\n\n104\nx9"))

    assert field_errors(response, "ticket_ids") == [
        "line 2: “abc” is not a ticket id",
        "line 5: “x9” is not a ticket id",
    ]
    assert Job.objects.count() == 0


def test_a_pasted_list_longer_than_the_tool_takes_is_refused(
    agent_client, sandbox_url, rq_queue
):
    Tool.objects.filter(slug="tag-manager").update(background_ticket_limit=3)

    response = post(agent_client, pasted("1 2 3 4"), limit="3")

    assert field_errors(response, "ticket_ids") == [
        "That is 4 tickets; this tool takes at most 3 a run."
    ]
    assert Job.objects.count() == 0


def test_a_pasted_list_with_repeats_and_unknown_ids_ends_with_not_found_outcomes(
    agent_client, sandbox_url, rq_queue, run_worker
):
    known = make_tickets(150)
    gone = [known[-1] + 1000, known[-1] + 1001]
    Tool.objects.filter(slug="tag-manager").update(inline_ticket_limit=10)
    text = "\n".join(str(pk) for pk in known) + f"\n{gone[0]}, {gone[1]}, {known[0]}"

    # The limit field is hidden for a list, so a bad value there is ignored.
    response = post(agent_client, pasted(text), limit="")
    job = Job.objects.get()
    assert response.status_code == 302
    run_worker()

    job.refresh_from_db()
    assert job.status == Job.Status.COMPLETED_WITH_ERRORS
    assert outcomes(job) == {Outcome.UPDATED: 150, Outcome.FAILED: 2}
    for pk in gone:
        result = job.results.get(ticket_id=pk)
        assert result.ticket_status == "not found"
        assert result.error.startswith("Not found in Zendesk")
    assert all("picked" in tags for tags in tags_of(known).values())
    assert job.params["source"]["title"] == (
        "a pasted list of 152 tickets, 1 repeated ids left out"
    )
    assert job.params["limit"] == 152
    page = agent_client.get(job.get_absolute_url()).content.decode()
    assert "Add tag picked (a pasted list of 152 tickets" in page


def test_a_csv_upload_through_htmx_tags_its_tickets(
    agent_client, sandbox_url, rq_queue
):
    listed = make_tickets(20)
    untouched = make_tickets(5)
    rows = "".join(f"{pk},Subject {pk}\r\n" for pk in listed)
    upload = SimpleUploadedFile(
        "April export.csv", f"\ufeffTicket_ID,Subject\r\n{rows}".encode()
    )

    response = post(
        agent_client, {"source": "tickets", "ticket_file": upload}, htmx=True
    )

    job = Job.objects.get()
    assert response["HX-Redirect"] == job.get_absolute_url()
    assert job.status == Job.Status.SUCCEEDED
    assert job.params["source"]["title"] == "20 tickets from April export.csv"
    assert all("picked" in tags for tags in tags_of(listed).values())
    assert not any("picked" in tags for tags in tags_of(untouched).values())


def test_pasting_and_uploading_at_once_is_refused(agent_client, sandbox_url):
    upload = SimpleUploadedFile("ids.csv", b"1\n2\n")

    response = post(agent_client, {**pasted("3"), "ticket_file": upload})

    assert field_errors(response, "ticket_ids") == [
        "Paste ids or upload a file, not both: clear one."
    ]
    assert Job.objects.count() == 0


def test_only_the_chosen_source_is_checked(agent_client, sandbox_url, rq_queue):
    ticket_ids = make_tickets(3)

    response = post(
        agent_client,
        {**search("status:open"), "view": "999999", "ticket_ids": "not ids"},
    )

    assert response.status_code == 302
    assert Job.objects.get().params["source"] == {
        "type": "search",
        "query": "status:open",
    }
    assert all("picked" in tags for tags in tags_of(ticket_ids).values())


def test_views_that_fail_to_load_block_only_the_view_source(
    agent_client, sandbox_url, rq_queue
):
    make_tickets(3)
    make_view("Everything")
    inject_fault("views/active", 404, times=2)

    by_view = post(agent_client, {"source": "view", "view": "1"})
    by_search = post(agent_client, search("status:open"))

    assert "The list of views could not be loaded" in by_view.content.decode()
    assert field_errors(by_view, "view") == [
        "The views could not be loaded; choose another source."
    ]
    assert by_search.status_code == 302
    assert Job.objects.count() == 1


def test_the_form_posts_files_with_and_without_htmx(agent_client, sandbox_url):
    html = agent_client.get(FORM_URL).content.decode()

    assert 'enctype="multipart/form-data"' in html
    assert 'hx-encoding="multipart/form-data"' in html
    assert 'type="file" name="ticket_file"' in html
    assert 'name="source" value="search"' in html
    assert "source-part source-search" in html


def test_an_unchanged_ticket_list_still_counts_in_the_total(
    agent_client, sandbox_url, rq_queue
):
    ticket_ids = make_tickets(4, tags=lambda n: ["picked"] if n < 2 else ["base"])
    Ticket.objects.filter(pk=ticket_ids[3]).update(status="closed")

    post(agent_client, pasted(" ".join(str(pk) for pk in ticket_ids)))

    job = Job.objects.get()
    assert outcomes(job) == {
        Outcome.UNCHANGED: 2,
        Outcome.UPDATED: 1,
        Outcome.FAILED: 1,
    }
