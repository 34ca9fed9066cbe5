"""`manage.py apply_macro`: each source, the macro checks of the form, exit
codes for scripts, against the sandbox over real HTTP."""

import io
from collections import Counter

import pytest
from django.core.management import CommandError, call_command

from jobs.models import Job
from sandbox.models import Comment, Ticket
from tests.sandbox_data import action, make_macro, make_tickets, make_view, tags_of

pytestmark = pytest.mark.django_db(transaction=True, databases=["default", "sandbox"])

NOTE = "Closing this one for you."


@pytest.fixture
def boss(django_user_model):
    return django_user_model.objects.create_superuser("boss", password="unused-pw-4")


@pytest.fixture
def macro(sandbox_url):
    return make_macro(
        "Solve and note",
        [
            action("status", "solved"),
            action("current_tags", "via_cli"),
            action("comment_value", NOTE),
        ],
    )


def run(*args: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with pytest.raises(SystemExit) as exit_:
        call_command("apply_macro", *args, stdout=out, stderr=err)
    return exit_.value.code, out.getvalue(), err.getvalue()


def statuses(ticket_ids: list[int]) -> Counter:
    tickets = Ticket.objects.filter(pk__in=ticket_ids)
    return Counter(tickets.values_list("status", flat=True))


def notes_per_ticket(ticket_ids: list[int]) -> Counter:
    noted = Counter(
        Comment.objects.filter(ticket_id__in=ticket_ids, body=NOTE).values_list(
            "ticket_id", flat=True
        )
    )
    return Counter(noted.get(pk, 0) for pk in ticket_ids)


def assert_applied(ticket_ids: list[int]) -> None:
    assert statuses(ticket_ids) == {"solved": len(ticket_ids)}
    assert all("via_cli" in tags for tags in tags_of(ticket_ids).values())
    assert notes_per_ticket(ticket_ids) == {1: len(ticket_ids)}


def test_applies_the_macro_to_a_view_and_exits_0(boss, macro):
    ticket_ids = make_tickets(60)
    view = make_view("Everything")

    code, out, _ = run("--view", str(view.pk), "--macro", str(macro.pk))

    assert code == 0
    assert "apply macro “Solve and note” to view “Everything”, limit 10,000" in out
    assert "Succeeded: 60 tickets, 60 updated, 0 already correct, 0 failed." in out
    assert_applied(ticket_ids)


def test_applies_the_macro_to_what_a_search_finds(boss, macro):
    wanted = make_tickets(15, tags=lambda n: ["base", "x"])
    others = make_tickets(5)

    code, out, _ = run("--search", "tags:x", "--macro", str(macro.pk))

    assert code == 0
    assert "search “tags:x”" in out
    assert "15 updated" in out
    assert_applied(wanted)
    assert statuses(others) == {"open": 5}
    assert notes_per_ticket(others) == {0: 5}


def test_applies_the_macro_to_the_tickets_of_an_ids_file(boss, macro, tmp_path):
    listed = make_tickets(12)
    others = make_tickets(3)
    ids_file = tmp_path / "to close.csv"
    ids_file.write_text("id\n" + "".join(f"{pk}\n" for pk in [*listed, listed[0]]))

    code, out, _ = run("--ids-file", str(ids_file), "--macro", str(macro.pk))

    assert code == 0
    assert "12 tickets from to close.csv, 1 repeated ids left out" in out
    assert_applied(listed)
    assert notes_per_ticket(others) == {0: 3}


def test_the_limit_and_the_user_are_taken(boss, macro, django_user_model):
    ticket_ids = make_tickets(20)
    view = make_view("Everything")
    other = django_user_model.objects.create_superuser("other", password="pw-5")

    code, _, _ = run(
        "--view",
        str(view.pk),
        "--macro",
        str(macro.pk),
        "--limit",
        "7",
        "--user",
        "other",
    )

    job = Job.objects.get()
    assert code == 0
    assert (job.params["limit"], job.total, job.succeeded) == (7, 7, 7)
    assert job.created_by == other
    assert statuses(ticket_ids) == {"solved": 7, "open": 13}


def test_closed_tickets_are_counted_as_not_applicable(boss, macro):
    ticket_ids = make_tickets(10, status=lambda n: "closed" if n < 3 else "open")
    view = make_view("Everything")

    code, out, _ = run("--view", str(view.pk), "--macro", str(macro.pk))

    assert code == 0
    assert "7 updated, 0 already correct, 0 failed, 3 not applicable" in out
    assert notes_per_ticket(ticket_ids[:3]) == {0: 3}


def test_a_dry_run_reports_and_changes_nothing(boss, macro):
    ticket_ids = make_tickets(8, status=lambda n: "closed" if n == 0 else "open")
    view = make_view("Everything")

    code, out, _ = run("--view", str(view.pk), "--macro", str(macro.pk), "--dry-run")

    assert code == 0
    assert (
        "Dry run: 8 in scope, 7 would change, 0 already correct, 0 would fail, "
        "1 not applicable." in out
    )
    assert Job.objects.get().dry_run
    assert statuses(ticket_ids) == {"open": 7, "closed": 1}
    assert notes_per_ticket(ticket_ids) == {0: 8}


@pytest.mark.parametrize(
    ("macro_arg", "message"),
    [
        ("999999", "--macro: That is not one of the account's active macros."),
        ("abc", "--macro: That is not one of the account's active macros."),
        ("", "--macro: Choose a macro."),
    ],
)
def test_an_unknown_macro_exits_2(boss, sandbox_url, macro_arg, message):
    view = make_view("Everything")
    make_tickets(3)

    code, _, err = run("--view", str(view.pk), "--macro", macro_arg)

    assert code == 2
    assert message in err
    assert Job.objects.count() == 0


def test_an_inactive_macro_exits_2(boss, sandbox_url):
    retired = make_macro("Retired", [action("status", "solved")], active=False)
    ticket_ids = make_tickets(3)

    code, _, err = run("--search", "status:open", "--macro", str(retired.pk))

    assert code == 2
    assert "--macro: That is not one of the account's active macros." in err
    assert Job.objects.count() == 0
    assert statuses(ticket_ids) == {"open": 3}


@pytest.mark.parametrize(
    ("actions", "message"),
    [
        (
            [action("status", "solved"), action("satisfaction_score", "offered")],
            "--macro: This macro cannot be applied in bulk: the action "
            "“satisfaction_score” is not supported",
        ),
        (
            [action("subject", "About {{ticket.id}}")],
            "--macro: This macro cannot be applied in bulk: Subject uses a placeholder",
        ),
        ([action("comment_mode_is_public", "false")], "has no action that changes"),
    ],
)
def test_a_macro_the_tool_cannot_apply_exits_2(boss, sandbox_url, actions, message):
    unsupported = make_macro("Unsupported", actions)
    ticket_ids = make_tickets(3)

    code, _, err = run("--search", "status:open", "--macro", str(unsupported.pk))

    assert code == 2
    assert message in err
    assert Job.objects.count() == 0
    assert statuses(ticket_ids) == {"open": 3}


def test_an_agent_may_not_apply_macros(boss, macro, make_user):
    make_user("agent")
    make_tickets(2)

    code, _, err = run(
        "--search", "status:open", "--macro", str(macro.pk), "--user", "agent"
    )

    assert code == 2
    assert "agent may not use the Apply Macro." in err
    assert Job.objects.count() == 0


def test_the_macro_is_required(boss, sandbox_url):
    with pytest.raises(CommandError) as missing:
        call_command("apply_macro", "--view", "1")

    assert "the following arguments are required: --macro" in str(missing.value)
