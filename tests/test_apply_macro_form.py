"""The Apply Macro form from the outside: who may open it, which macros it
offers, each ticket source posted through htmx and run by a real worker
against the sandbox over real HTTP, and the admin's re-run."""

from collections import Counter

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from accounts.roles import SUPERVISOR
from jobs.models import Job, TicketResult
from sandbox.models import Comment, Ticket
from tests.job_helpers import outcomes
from tests.sandbox_data import action, make_macro, make_tickets, make_view, tags_of
from tools.models import Tool
from tools.registry import get_tool

pytestmark = pytest.mark.django_db(transaction=True, databases=["default", "sandbox"])

FORM_URL = reverse("tools:form", args=["apply-macro"])
HX = {"HX-Request": "true"}
NOTE = "Thanks for waiting: this is now solved."
Outcome = TicketResult.Outcome


@pytest.fixture
def supervisor(make_user):
    return make_user("lead", SUPERVISOR, is_staff=True)


@pytest.fixture
def lead_client(supervisor):
    """A supervisor's browser: CSRF checked, as in production."""
    client = Client(enforce_csrf_checks=True)
    client.force_login(supervisor)
    return client


@pytest.fixture
def on_a_worker(rq_queue):
    """Every Apply Macro run goes to the queue, for `run_worker` to do."""
    row = get_tool("apply-macro").get_row()
    Tool.objects.filter(pk=row.pk).update(inline_ticket_limit=0)


def solve_with_note(**fields):
    return make_macro(
        "Solve with a note",
        [
            action("status", "solved"),
            action("current_tags", "macro_done"),
            action("comment_value", NOTE),
        ],
        **fields,
    )


def post(client: Client, macro, source: dict, **changes):
    """Post the form the way the page's htmx does: the CSRF token from the
    page in a header."""
    page = client.get(FORM_URL)
    token = str(page.context["csrf_token"])
    data = {"macro": str(macro.pk), "limit": "10000", **source, **changes}
    return client.post(FORM_URL, data, headers={**HX, "X-CSRFToken": token})


def field_errors(response, field: str) -> list[str]:
    return response.context["form"].errors.get(field, [])


def comments_on(ticket_ids: list[int]) -> Counter:
    """How many comments each ticket carries, counted by how many have that
    many: {1: 20} is twenty tickets with one comment each."""
    counted = Counter(
        Comment.objects.filter(ticket_id__in=ticket_ids).values_list(
            "ticket_id", flat=True
        )
    )
    return Counter(counted.get(pk, 0) for pk in ticket_ids)


def assert_solved_with_the_note(ticket_ids: list[int]) -> None:
    tickets = Ticket.objects.filter(pk__in=ticket_ids)
    assert Counter(tickets.values_list("status", flat=True)) == {
        "solved": len(ticket_ids)
    }
    assert all("macro_done" in tags for tags in tags_of(ticket_ids).values())
    assert comments_on(ticket_ids) == {1: len(ticket_ids)}
    bodies = Comment.objects.filter(ticket_id__in=ticket_ids)
    assert set(bodies.values_list("body", "public")) == {(NOTE, True)}


def assert_left_alone(ticket_ids: list[int]) -> None:
    tickets = Ticket.objects.filter(pk__in=ticket_ids)
    assert set(tickets.values_list("status", flat=True)) <= {"open"}
    assert not any("macro_done" in tags for tags in tags_of(ticket_ids).values())
    assert comments_on(ticket_ids) == {0: len(ticket_ids)}


def finished(job: Job) -> Job:
    job.refresh_from_db()
    return job


# Who sees the form, and which macros it offers


@pytest.mark.parametrize("who", ["supervisor", "superuser"])
def test_the_form_lists_only_active_macros_with_what_they_do(
    client, supervisor, admin_user, sandbox_url, who
):
    solve_with_note()
    make_macro(
        "Escalate quietly",
        [
            action("priority", "urgent"),
            action("comment_mode_is_public", "false"),
            action("comment_value", "Escalated"),
            action("group_id", "7"),
            action("remove_tags", "low_touch"),
        ],
    )
    make_macro("Retired macro", [action("status", "pending")], active=False)
    client.force_login(supervisor if who == "supervisor" else admin_user)

    response = client.get(FORM_URL)

    assert response.status_code == 200
    labels = [label for _, label in response.context["form"].fields["macro"].choices]
    assert labels == [
        "Choose a macro",
        f"Solve with a note (Status: solved; Add tags: macro_done; "
        f"Comment (public): {NOTE})",
        "Escalate quietly (Priority: urgent; Comment (private): Escalated; "
        "Group: 7; 1 more)",
    ]
    html = response.content.decode()
    assert "Escalate quietly (Priority: urgent; Comment (private)" in html
    assert "Retired macro" not in html


def test_an_agent_cannot_open_or_post_the_form(agent_client, sandbox_url, rq_queue):
    macro = solve_with_note()
    ticket_ids = make_tickets(3)

    page = agent_client.get(FORM_URL)
    posted = agent_client.post(
        FORM_URL,
        {"macro": macro.pk, "source": "tickets", "ticket_ids": "1 2 3"},
        headers=HX,
    )

    assert (page.status_code, posted.status_code) == (404, 404)
    assert Job.objects.count() == 0
    assert_left_alone(ticket_ids)


def test_the_post_needs_the_csrf_token(lead_client, sandbox_url, rq_queue):
    macro = solve_with_note()
    ticket_ids = make_tickets(2)
    data = {"macro": macro.pk, "source": "tickets", "ticket_ids": "1 2"}

    response = lead_client.post(FORM_URL, data, headers=HX)

    assert response.status_code == 403
    assert Job.objects.count() == 0
    assert_left_alone(ticket_ids)


# Each source, run by a real worker


def test_a_view_gets_the_macro_applied_by_a_worker(
    lead_client, sandbox_url, on_a_worker, rq_queue, run_worker
):
    ticket_ids = make_tickets(120)
    view = make_view("Everything")
    macro = solve_with_note()

    response = post(lead_client, macro, {"source": "view", "view": str(view.pk)})

    job = Job.objects.get()
    assert response["HX-Redirect"] == job.get_absolute_url()
    assert job.status == Job.Status.QUEUED
    assert job.params["macro"]["id"] == macro.pk
    run_worker()
    job = finished(job)
    assert job.status == Job.Status.SUCCEEDED
    assert outcomes(job) == {Outcome.UPDATED: 120}
    assert_solved_with_the_note(ticket_ids)
    page = lead_client.get(job.get_absolute_url()).content.decode()
    assert "Apply macro “Solve with a note” to view “Everything”" in page


def test_a_search_gets_the_macro_applied_to_what_it_finds(
    lead_client, sandbox_url, on_a_worker, rq_queue, run_worker
):
    wanted = make_tickets(40, tags=lambda n: ["base", "x"])
    others = make_tickets(10)
    macro = solve_with_note()

    response = post(lead_client, macro, {"source": "search", "query": "tags:x"})

    job = Job.objects.get()
    assert response["HX-Redirect"] == job.get_absolute_url()
    run_worker()
    job = finished(job)
    assert job.status == Job.Status.SUCCEEDED
    assert outcomes(job) == {Outcome.UPDATED: 40}
    assert_solved_with_the_note(wanted)
    assert_left_alone(others)


def test_junk_in_a_pasted_list_is_refused_by_line_before_anything_starts(
    lead_client, sandbox_url, rq_queue
):
    ticket_ids = make_tickets(3)
    text = f"{ticket_ids[0]}, {ticket_ids[1]}\n{ticket_ids[2]} twelve\n\n4.5"

    response = post(
        lead_client, solve_with_note(), {"source": "tickets", "ticket_ids": text}
    )

    assert response.status_code == 200
    assert field_errors(response, "ticket_ids") == [
        "line 2: “twelve” is not a ticket id",
        "line 4: “4.5” is not a ticket id",
    ]
    assert Job.objects.count() == 0
    assert rq_queue.count == 0
    assert_left_alone(ticket_ids)


def test_a_pasted_list_with_repeats_and_unknown_ids_ends_with_not_found(
    lead_client, sandbox_url, on_a_worker, rq_queue, run_worker
):
    known = make_tickets(30)
    gone = [known[-1] + 500, known[-1] + 501]
    text = " ".join(str(pk) for pk in known) + f"\n{gone[0]}\n{known[0]}, {gone[1]}"

    response = post(
        lead_client, solve_with_note(), {"source": "tickets", "ticket_ids": text}
    )

    job = Job.objects.get()
    assert response["HX-Redirect"] == job.get_absolute_url()
    assert job.params["source"]["ids"] == [*known, *gone]
    assert job.params["source"]["title"] == (
        "a pasted list of 32 tickets, 1 repeated ids left out"
    )
    run_worker()
    job = finished(job)
    # Unknown tickets fail one by one; the job itself ran to its end.
    assert job.status == Job.Status.COMPLETED_WITH_ERRORS
    assert outcomes(job) == {Outcome.UPDATED: 30, Outcome.FAILED: 2}
    for pk in gone:
        assert job.results.get(ticket_id=pk).error.startswith("Not found in Zendesk")
    assert_solved_with_the_note(known)


def test_a_csv_upload_gets_the_macro_applied(
    lead_client, sandbox_url, on_a_worker, rq_queue, run_worker
):
    listed = make_tickets(25)
    untouched = make_tickets(5)
    rows = "".join(f"{pk},Customer {pk}\r\n" for pk in listed)
    upload = SimpleUploadedFile("to solve.csv", f"ticket_id,name\r\n{rows}".encode())

    response = post(
        lead_client, solve_with_note(), {"source": "tickets", "ticket_file": upload}
    )

    job = Job.objects.get()
    assert response["HX-Redirect"] == job.get_absolute_url()
    assert job.params["source"]["title"] == "25 tickets from to solve.csv"
    run_worker()
    job = finished(job)
    assert job.status == Job.Status.SUCCEEDED
    assert_solved_with_the_note(listed)
    assert_left_alone(untouched)


# Macros the tool refuses


@pytest.mark.parametrize(
    ("actions", "explanation"),
    [
        (
            [action("status", "solved"), action("satisfaction_score", "offered")],
            "This macro cannot be applied in bulk: the action “satisfaction_score” "
            "is not supported",
        ),
        (
            [action("subject", "Re: {{ticket.title}}"), action("status", "pending")],
            "This macro cannot be applied in bulk: Subject uses a placeholder",
        ),
    ],
)
def test_a_macro_the_tool_cannot_reproduce_is_refused_with_the_reason(
    lead_client, sandbox_url, rq_queue, actions, explanation
):
    ticket_ids = make_tickets(4)
    macro = make_macro("Survey and solve", actions)

    response = post(
        lead_client,
        macro,
        {"source": "tickets", "ticket_ids": " ".join(map(str, ticket_ids))},
    )

    assert response.status_code == 200
    assert field_errors(response, "macro") == [explanation]
    assert "cannot be applied in bulk" in response.content.decode()
    assert Job.objects.count() == 0
    assert rq_queue.count == 0
    assert_left_alone(ticket_ids)


def test_an_inactive_macro_cannot_be_posted(lead_client, sandbox_url, rq_queue):
    ticket_ids = make_tickets(2)
    macro = solve_with_note(active=False)

    response = post(
        lead_client,
        macro,
        {"source": "tickets", "ticket_ids": " ".join(map(str, ticket_ids))},
    )

    assert field_errors(response, "macro") == [
        "That is not one of the account's active macros."
    ]
    assert Job.objects.count() == 0
    assert_left_alone(ticket_ids)


# Dry run


def test_a_dry_run_records_each_tickets_before_and_after_and_the_comment(
    lead_client, sandbox_url, on_a_worker, rq_queue, run_worker
):
    ticket_ids = make_tickets(6, status=lambda n: "pending" if n % 2 else "open")
    Ticket.objects.filter(pk=ticket_ids[5]).update(status="closed")
    pasted = " ".join(map(str, ticket_ids))

    post(
        lead_client,
        solve_with_note(),
        {"source": "tickets", "ticket_ids": pasted},
        dry_run="on",
    )
    run_worker()

    job = finished(Job.objects.get())
    assert job.dry_run
    assert outcomes(job) == {Outcome.WOULD_CHANGE: 5, Outcome.NOT_APPLICABLE: 1}
    pending = job.results.get(ticket_id=ticket_ids[1])
    assert pending.fields_before == {"status": "pending", "tags": ["base"]}
    stamp = Ticket.objects.get(pk=pending.ticket_id).updated_at
    assert pending.change == {
        "status": "solved",
        "additional_tags": ["macro_done"],
        "comment": {"body": NOTE, "public": True},
        # A comment goes as a safe update, so it cannot land twice.
        "safe_update": True,
        "updated_stamp": stamp.strftime("%Y-%m-%dT%H:%M:%SZ"),
    }
    opened = job.results.get(ticket_id=ticket_ids[0])
    assert get_tool("apply-macro").describe_change(
        opened.fields_before, opened.change
    ) == ["Status: open → solved", f"Comment (public): {NOTE}"]
    closed = job.results.get(ticket_id=ticket_ids[5])
    assert closed.error.startswith("Closed")
    # Nothing changed in Zendesk.
    assert Counter(
        Ticket.objects.filter(pk__in=ticket_ids).values_list("status", flat=True)
    ) == {"open": 3, "pending": 2, "closed": 1}
    assert comments_on(ticket_ids) == {0: 6}


# The admin's re-run


def test_the_admin_reruns_an_apply_macro_job_with_the_same_parameters(
    client, supervisor, lead_client, sandbox_url, on_a_worker, rq_queue, run_worker
):
    ticket_ids = make_tickets(10)
    view = make_view("Everything")
    post(lead_client, solve_with_note(), {"source": "view", "view": str(view.pk)})
    run_worker()
    first = finished(Job.objects.get())
    assert first.status == Job.Status.SUCCEEDED
    client.force_login(supervisor)
    chosen = {"action": "rerun_jobs", "_selected_action": [first.pk]}

    asked = client.post("/admin/jobs/job/", chosen)
    done = client.post("/admin/jobs/job/", {**chosen, "post": "yes"})

    assert "apply macro “Solve with a note” to view “Everything”" in (
        asked.content.decode()
    )
    assert done.status_code == 302
    rerun = Job.objects.exclude(pk=first.pk).get()
    assert rerun.params == {
        **first.params,
        "attempts_since": first.created_at.isoformat(),
    }
    assert rerun.tool.slug == "apply-macro"
    assert rerun.created_by == supervisor
    run_worker()
    rerun = finished(rerun)
    # The first job already commented every ticket: nothing is sent again.
    assert rerun.status == Job.Status.SUCCEEDED
    assert outcomes(rerun) == {Outcome.UNCHANGED: 10}
    assert comments_on(ticket_ids) == {1: 10}
