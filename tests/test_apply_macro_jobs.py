"""Apply Macro jobs end to end: real HTTP to the sandbox, the job engine,
real workers where the test kills one."""

from collections import Counter
from datetime import timedelta
from functools import partial

import pytest
from django.db.models import Count
from django.utils import timezone

from jobs.engine import UNCONFIRMED_SEND
from jobs.models import Job, TicketResult
from jobs.services import job_create, job_enqueue, job_retry, job_run, job_start
from sandbox.faults import inject_fault
from sandbox.models import Comment, FaultModes, Macro, RequestLog, Ticket, TicketAudit
from tests.job_helpers import ProgressWatch, outcomes, wait_until
from tests.sandbox_data import make_tickets, make_view, tags_of
from tests.test_worker_crashes import kill_horse, worker
from tools.registry import get_tool

pytestmark = pytest.mark.django_db(transaction=True, databases=["default", "sandbox"])

Outcome = TicketResult.Outcome
NOTE = "We have solved this for you. Reply to reopen."


@pytest.fixture
def user(django_user_model):
    return django_user_model.objects.create_superuser("boss", password="unused-pw-1")


def solve_with_note() -> Macro:
    return Macro.objects.create(
        title="Solve with a note",
        actions=[
            {"field": "status", "value": "solved"},
            {"field": "current_tags", "value": "macro_solved"},
            {"field": "comment_value", "value": NOTE},
        ],
    )


def macro_params(source: dict, macro: Macro, *, dry_run: bool = False) -> dict:
    return {
        "source": source,
        "macro": {"id": macro.pk, "title": macro.title, "actions": macro.actions},
        "current_user_id": None,
        "limit": 50_000,
        "dry_run": dry_run,
    }


def view_source(view) -> dict:
    return {"type": "view", "id": view.pk, "title": view.title}


def new_macro_job(user, macro: Macro, *, dry_run: bool = False) -> Job:
    params = macro_params(view_source(make_view("Everything")), macro, dry_run=dry_run)
    return job_create(tool=get_tool("apply-macro"), user=user, params=params)


def comments_per_ticket(ticket_ids: list[int]) -> Counter:
    """How many times the macro's comment landed on each ticket."""
    rows = Comment.objects.filter(ticket_id__in=ticket_ids, body=NOTE)
    counted = dict(rows.values_list("ticket_id").annotate(n=Count("id")))
    return Counter(counted.get(pk, 0) for pk in ticket_ids)


def update_calls() -> int:
    return RequestLog.objects.filter(path__contains="update_many").count()


def test_a_macro_is_applied_to_a_thousand_tickets(user, sandbox_url):
    ticket_ids = make_tickets(1_000)
    macro = solve_with_note()
    job = new_macro_job(user, macro)

    job_run(job_id=job.pk)

    job.refresh_from_db()
    assert job.status == Job.Status.SUCCEEDED
    assert outcomes(job) == {Outcome.UPDATED: 1_000}
    statuses = Counter(
        Ticket.objects.filter(pk__in=ticket_ids).values_list("status", flat=True)
    )
    assert statuses == {"solved": 1_000}
    assert all("macro_solved" in tags for tags in tags_of(ticket_ids).values())
    assert comments_per_ticket(ticket_ids) == {1: 1_000}
    # Every change names the macro, for Zendesk's audit.
    audits = TicketAudit.objects.filter(ticket_id__in=ticket_ids)
    audited = {
        ticket_id
        for ticket_id, macro_ids in audits.values_list("ticket_id", "macro_ids")
        if macro.pk in macro_ids
    }
    assert audited == set(ticket_ids)
    # The tickets all got the same change: one bulk call per 100.
    assert update_calls() == 10


def test_closed_tickets_are_reported_not_applicable(user, sandbox_url):
    ticket_ids = make_tickets(300, status=lambda n: "closed" if n < 30 else "open")
    job = new_macro_job(user, solve_with_note())

    job_run(job_id=job.pk)

    job.refresh_from_db()
    assert job.status == Job.Status.SUCCEEDED
    assert outcomes(job) == {Outcome.UPDATED: 270, Outcome.NOT_APPLICABLE: 30}
    assert (job.not_applicable, job.succeeded, job.failed) == (30, 270, 0)
    assert comments_per_ticket(ticket_ids[:30]) == {0: 30}


def test_a_dry_run_shows_each_ticket_before_and_after_and_changes_nothing(
    user, sandbox_url, client
):
    ticket_ids = make_tickets(50, status=lambda n: "pending" if n % 2 else "open")
    job = new_macro_job(user, solve_with_note(), dry_run=True)

    job_run(job_id=job.pk)

    job.refresh_from_db()
    assert outcomes(job) == {Outcome.WOULD_CHANGE: 50}
    result = job.results.get(ticket_id=ticket_ids[1])
    assert result.fields_before == {"status": "pending", "tags": ["base"]}
    stamp = Ticket.objects.get(pk=result.ticket_id).updated_at
    assert result.change == {
        "status": "solved",
        "additional_tags": ["macro_solved"],
        "comment": {"body": NOTE, "public": True},
        # A comment goes as a safe update, so it cannot land twice.
        "safe_update": True,
        "updated_stamp": stamp.strftime("%Y-%m-%dT%H:%M:%SZ"),
    }
    assert update_calls() == 0
    assert comments_per_ticket(ticket_ids) == {0: 50}

    client.force_login(user)
    page = client.get(job.get_absolute_url()).content.decode()
    assert "Other changes" in page
    assert "Status: pending → solved" in page
    assert "Status: open → solved" in page
    assert f"Comment (public): {NOTE}" in page


def test_tickets_that_need_different_changes_go_in_the_batch_form(user, sandbox_url):
    ticket_ids = make_tickets(100, status=lambda n: "solved" if n % 2 else "open")
    macro = Macro.objects.create(
        title="Solve", actions=[{"field": "status", "value": "solved"}]
    )
    macro.actions.append({"field": "priority", "value": "high"})
    macro.save()
    job = new_macro_job(user, macro)

    job_run(job_id=job.pk)

    job.refresh_from_db()
    assert outcomes(job) == {Outcome.UPDATED: 100}
    tickets = Ticket.objects.filter(pk__in=ticket_ids)
    assert set(tickets.values_list("status", "priority")) == {("solved", "high")}


def test_a_placeholder_comment_is_rendered_per_ticket_by_zendesk_preview(
    user, sandbox_url
):
    ticket_ids = make_tickets(3)
    macro = Macro.objects.create(
        title="Thanks",
        actions=[{"field": "comment_value", "value": "Ticket {{ticket.id}} is done"}],
    )
    job = new_macro_job(user, macro)

    job_run(job_id=job.pk)

    job.refresh_from_db()
    assert outcomes(job) == {Outcome.UPDATED: 3}
    bodies = dict(
        Comment.objects.filter(ticket_id__in=ticket_ids)
        .exclude(body__startswith="Test ticket")
        .values_list("ticket_id", "body")
    )
    assert bodies == {pk: f"Ticket {pk} is done" for pk in ticket_ids}
    previews = RequestLog.objects.filter(path__contains="/apply")
    assert previews.count() == 3


def run_stopped_after_second_send(job: Job, monkeypatch) -> None:
    """Run the job until Zendesk has taken its second chunk, then stop the
    run before it can note Zendesk's job id, as a killed worker would."""
    tool_class = type(get_tool("apply-macro"))
    original_send = tool_class.send_update
    sent = {"n": 0}

    def stop_after_second_send(self, client, chunk, params, **kwargs):
        sent["n"] += 1
        job_status = original_send(self, client, chunk, params, **kwargs)
        if sent["n"] == 2:
            raise SystemExit("the worker was stopped")
        return job_status

    with monkeypatch.context() as patch:
        patch.setattr(tool_class, "send_update", stop_after_second_send)
        with pytest.raises(SystemExit):
            job_run(job_id=job.pk)


def test_a_chunk_sent_just_before_the_run_stopped_gets_its_comment_once(
    user, sandbox_url, monkeypatch
):
    """The run stops after Zendesk took a chunk but before the run could
    note Zendesk's job id: the resumed run must not send that chunk again."""
    ticket_ids = make_tickets(300)
    job = new_macro_job(user, solve_with_note())
    run_stopped_after_second_send(job, monkeypatch)
    marks = Counter(job.results.values_list("zendesk_job_id", flat=True))
    assert marks[UNCONFIRMED_SEND] == 100

    job_run(job_id=job.pk)

    job.refresh_from_db()
    assert job.status == Job.Status.SUCCEEDED
    assert outcomes(job) == {Outcome.UPDATED: 300}
    assert comments_per_ticket(ticket_ids) == {1: 300}
    assert update_calls() == 3


def last_changed_an_hour_ago(ticket_ids: list[int]) -> None:
    """The API shows times to the second: a safe update can only tell a
    ticket changed in another second from the one it was stamped with."""
    an_hour_ago = timezone.now() - timedelta(hours=1)
    Ticket.objects.filter(pk__in=ticket_ids).update(updated_at=an_hour_ago)


def zendesk_runs_late(monkeypatch, *, times: int = 1) -> None:
    """The first `times` checks of whether tickets carry the change come
    before Zendesk has run the update (the sandbox runs it at once)."""
    tool_class = type(get_tool("apply-macro"))
    original = tool_class.find_applied
    checks = {"n": 0}

    def not_yet(self, client, ticket_ids, params, **kwargs):
        checks["n"] += 1
        if checks["n"] <= times:
            return dict.fromkeys(ticket_ids, False)
        return original(self, client, ticket_ids, params, **kwargs)

    monkeypatch.setattr(tool_class, "find_applied", not_yet)


def test_a_chunk_sent_again_before_zendesk_ran_the_first_copy_comments_once(
    user, sandbox_url, monkeypatch
):
    ticket_ids = make_tickets(300)
    last_changed_an_hour_ago(ticket_ids)
    job = new_macro_job(user, solve_with_note())
    run_stopped_after_second_send(job, monkeypatch)
    zendesk_runs_late(monkeypatch)
    job_run(job_id=job.pk)

    job.refresh_from_db()
    # The second chunk went out again; Zendesk refused the copy (its tickets
    # had changed since their stamp), and the tickets showed the comment.
    assert update_calls() == 4
    assert job.status == Job.Status.SUCCEEDED
    assert outcomes(job) == {Outcome.UPDATED: 300}
    assert comments_per_ticket(ticket_ids) == {1: 300}


def test_a_retry_leaves_alone_tickets_an_earlier_job_commented_after_all(
    user, sandbox_url, monkeypatch
):
    ticket_ids = make_tickets(100)
    job = new_macro_job(user, solve_with_note())
    # Zendesk takes the update but its answer is lost, and the tickets do not
    # show the change yet when the job looks.
    inject_fault("update_many", 504, after_handling=True)
    zendesk_runs_late(monkeypatch)
    job_run(job_id=job.pk)
    job.refresh_from_db()
    assert outcomes(job) == {Outcome.FAILED: 100}

    monkeypatch.undo()
    retry = job_retry(job=job, user=user)
    job_run(job_id=retry.pk)

    retry.refresh_from_db()
    assert outcomes(retry) == {Outcome.UNCHANGED: 100}
    assert comments_per_ticket(ticket_ids) == {1: 100}
    assert update_calls() == 1


def test_a_worker_killed_mid_job_leaves_one_comment_per_ticket(user, processes):
    ticket_ids = make_tickets(1_000)
    job = new_macro_job(user, solve_with_note())
    # Zendesk answers each update a second after it has applied it: a kill
    # in that second is the moment a comment could be sent twice.
    FaultModes.objects.create(delay_seconds=1.0, delay_paths="update_many")
    job_enqueue(job=job)
    watch = ProgressWatch(job)
    processes("recover_jobs", "--watch")

    current = worker(processes)
    kills = 0
    for threshold in (1, 400):
        wait_until(partial(watch.reached, threshold), f"{threshold} processed")
        wait_until(partial(_sending, job), "a chunk being sent")
        kill_horse(job)
        current.kill()
        kills += 1
        current = worker(processes)
    wait_until(watch.finished, "the job to finish", timeout=180)

    job.refresh_from_db()
    print(
        f"kills={kills} tickets={len(ticket_ids)} outcomes={job.results.count()} "
        f"update_many_calls={update_calls()} resumed={job.resumed_count} "
        f"comments={dict(comments_per_ticket(ticket_ids))}"
    )
    assert job.status == Job.Status.SUCCEEDED
    assert job.resumed_count == kills
    assert outcomes(job) == {Outcome.UPDATED: 1_000}
    assert comments_per_ticket(ticket_ids) == {1: 1_000}
    watch.assert_never_went_back_or_past_the_total()


def _sending(job: Job) -> bool:
    return job.results.filter(
        outcome=Outcome.PENDING, zendesk_job_id=UNCONFIRMED_SEND
    ).exists()


def test_a_placeholder_macro_goes_to_a_worker_however_few_its_tickets(
    user, sandbox_url, rq_queue
):
    make_tickets(3)
    macro = Macro.objects.create(
        title="Thanks",
        actions=[{"field": "comment_value", "value": "Ticket {{ticket.id}} is done"}],
    )
    params = macro_params(view_source(make_view("Everything")), macro)

    job = job_start(
        tool=get_tool("apply-macro"), user=user, params=params, expected_tickets=3
    )

    job.refresh_from_db()
    assert job.status == Job.Status.QUEUED
    assert rq_queue.count == 1
    assert RequestLog.objects.filter(path__contains="/macros/").count() == 0


def action(field: str, value: str) -> dict:
    return {"field": field, "value": value}


def test_a_macro_that_cannot_be_applied_is_marked_in_the_list():
    form = get_tool("apply-macro").form_class(
        tool=get_tool("apply-macro"),
        macros=[
            {"id": 1, "title": "Fine", "actions": [action("status", "open")]},
            {"id": 2, "title": "Survey", "actions": [action("cc", "x")]},
        ],
    )

    labels = dict(form.fields["macro"].choices)
    assert labels[1] == "Fine (Status: open)"
    assert labels[2] == "Survey (CC: x) (cannot be applied in bulk)"


def test_a_placeholder_macro_changed_since_the_job_started_stops_the_job(
    user, sandbox_url
):
    make_tickets(3)
    macro = Macro.objects.create(
        title="Thanks",
        actions=[{"field": "comment_value", "value": "Ticket {{ticket.id}} is done"}],
    )
    job = new_macro_job(user, macro)
    macro.actions = [{"field": "comment_value", "value": "Bye {{ticket.id}}"}]
    macro.save()

    job_run(job_id=job.pk)

    job.refresh_from_db()
    assert job.status == Job.Status.FAILED
    assert "was changed or turned off in Zendesk" in job.error_message
    assert RequestLog.objects.filter(path__contains="/apply").count() == 0
    assert update_calls() == 0


def test_a_ticket_changed_after_the_job_took_its_list_is_left_and_says_why(
    user, sandbox_url, monkeypatch
):
    ticket_ids = make_tickets(10)
    last_changed_an_hour_ago(ticket_ids)
    job = new_macro_job(user, solve_with_note())
    tool_class = type(get_tool("apply-macro"))
    original_send = tool_class.send_update

    def an_agent_edits_one_first(self, client, chunk, params, **kwargs):
        Ticket.objects.filter(pk=ticket_ids[0]).update(
            priority="urgent", updated_at=timezone.now()
        )
        return original_send(self, client, chunk, params, **kwargs)

    monkeypatch.setattr(tool_class, "send_update", an_agent_edits_one_first)
    job_run(job_id=job.pk)

    job.refresh_from_db()
    assert outcomes(job) == {Outcome.UPDATED: 9, Outcome.FAILED: 1}
    edited = job.results.get(ticket_id=ticket_ids[0])
    assert edited.error.startswith("Someone changed this ticket after the job took")
    assert comments_per_ticket(ticket_ids) == {1: 9, 0: 1}
