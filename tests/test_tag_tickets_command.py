"""`manage.py tag_tickets`: same checks as the form, exit codes for scripts."""

import io

import pytest
from django.core.management import CommandError, call_command

from jobs.management.commands.tag_tickets import Command
from jobs.models import Job
from tests.job_helpers import job_row
from tests.sandbox_data import make_tickets, make_view, tags_of
from tools.models import Tool

pytestmark = pytest.mark.django_db(transaction=True, databases=["default", "sandbox"])


@pytest.fixture
def admin_user(django_user_model):
    return django_user_model.objects.create_superuser("boss", password="unused-pw-3")


def run(*args: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with pytest.raises(SystemExit) as exit_:
        call_command("tag_tickets", *args, stdout=out, stderr=err)
    return exit_.value.code, out.getvalue(), err.getvalue()


def test_tags_a_view_and_exits_0(sandbox_url, admin_user):
    ticket_ids = make_tickets(120)
    view = make_view("Everything")

    code, out, _ = run("--view", str(view.pk), "--add", "Cli", "batch")

    assert code == 0
    assert "Succeeded: 120 tickets, 120 updated, 0 already correct, 0 failed." in out
    assert all(
        tags == ["base", "cli", "batch"] for tags in tags_of(ticket_ids).values()
    )


def test_exits_1_when_some_tickets_failed(sandbox_url, admin_user):
    make_tickets(10, status=lambda n: "closed" if n < 3 else "open")
    view = make_view("Everything")

    code, out, _ = run("--view", str(view.pk), "--remove", "base", "--user", "boss")

    assert code == 1
    assert "7 updated, 0 already correct, 3 failed" in out


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--add", "<oops>"], "--add/--remove: “<oops>” has characters a tag"),
        (
            ["--add", "vip", "--limit", "0"],
            "--limit: The ticket limit must be at least 1.",
        ),
        (["--add", "vip", "--user", "nobody"], "There is no user called 'nobody'."),
    ],
)
def test_bad_input_exits_2_with_the_message(sandbox_url, admin_user, args, message):
    view = make_view("Everything")

    code, _, err = run("--view", str(view.pk), *args)

    assert code == 2
    assert message in err
    assert Job.objects.count() == 0


def test_an_unknown_view_exits_2(sandbox_url, admin_user):
    code, _, err = run("--view", "4242", "--add", "vip")

    assert code == 2
    assert "--view: Choose one of the active views in the list." in err


def test_a_user_who_may_not_use_the_tool_is_refused(sandbox_url, make_user):
    make_user("agent")
    Tool.objects.filter(slug="tag-manager").update(requires_admin=True)
    view = make_view("Everything")

    code, _, err = run("--view", str(view.pk), "--add", "vip", "--user", "agent")

    assert code == 2
    assert "agent may not use the Tag Manager." in err
    assert Job.objects.count() == 0


def test_list_views_shows_the_ids_tag_tickets_takes(sandbox_url):
    make_tickets(12)
    view = make_view("Everything")
    out = io.StringIO()

    call_command("list_views", stdout=out)

    assert f"{view.pk:>12}        12  Everything" in out.getvalue()


def test_zendesk_without_credentials_exits_1(sandbox_url, admin_user, settings):
    settings.ZENDESK_API_TOKEN = ""

    code, _, err = run("--view", "1", "--add", "vip")

    assert code == 1
    assert "Could not load what the job needs from Zendesk" in err
    assert Job.objects.count() == 0


def test_tags_the_tickets_a_search_finds(sandbox_url, admin_user):
    wanted = make_tickets(30, tags=lambda n: ["base", "from_cli"])
    others = make_tickets(5)

    code, out, _ = run("--search", "tags:from_cli", "--add", "found")

    assert code == 0
    assert "search “tags:from_cli”, limit 10,000" in out
    assert "Succeeded: 30 tickets, 30 updated" in out
    assert all("found" in tags for tags in tags_of(wanted).values())
    assert not any("found" in tags for tags in tags_of(others).values())


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("priority:high", "--search: Zendesk cannot run this search: “priority”"),
        ("tags:nobody", "--search: No tickets match this search."),
        ("", "--search: Enter a search query."),
    ],
)
def test_a_bad_search_exits_2(sandbox_url, admin_user, query, message):
    make_tickets(3)

    code, _, err = run("--search", query, "--add", "vip")

    assert code == 2
    assert message in err
    assert Job.objects.count() == 0


def test_tags_the_tickets_of_an_ids_file(sandbox_url, admin_user, tmp_path):
    listed = make_tickets(12)
    missing = listed[-1] + 500
    ids_file = tmp_path / "ids.csv"
    ids_file.write_text(
        "ticket_id,note\n" + "".join(f"{pk},x\n" for pk in [*listed, missing])
    )

    code, out, _ = run("--ids-file", str(ids_file), "--add", "listed")

    assert code == 1  # the missing ticket fails; the others are tagged
    assert "(13 tickets from ids.csv)" in out
    assert "12 updated, 0 already correct, 1 failed." in out
    assert all("listed" in tags for tags in tags_of(listed).values())


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("1\n2\nthree\n", "--ids-file: line 3: “three” is not a ticket id"),
        ("", "--ids-file: The file is empty."),
    ],
)
def test_a_bad_ids_file_exits_2(sandbox_url, admin_user, tmp_path, content, message):
    ids_file = tmp_path / "ids.csv"
    ids_file.write_text(content)

    code, _, err = run("--ids-file", str(ids_file), "--add", "vip")

    assert code == 2
    assert message in err
    assert Job.objects.count() == 0


def test_a_missing_ids_file_exits_2(sandbox_url, admin_user, tmp_path):
    code, _, err = run("--ids-file", str(tmp_path / "nope.csv"), "--add", "vip")

    assert code == 2
    assert "--ids-file: cannot read" in err


def test_exactly_one_source_is_required(sandbox_url, admin_user):
    with pytest.raises(CommandError) as both:
        call_command("tag_tickets", "--view", "1", "--search", "x", "--add", "vip")
    with pytest.raises(CommandError) as neither:
        call_command("tag_tickets", "--add", "vip")

    assert "not allowed with argument" in str(both.value)
    assert "one of the arguments --view --search --ids-file is required" in str(
        neither.value
    )


def test_the_report_of_a_cancelled_job_counts_the_tickets_left_untouched(
    admin_user,
):
    job = job_row(
        admin_user, status="cancelled", total=10, processed=4, succeeded=3, failed=1
    )
    out = io.StringIO()

    Command(stdout=out)._report(job)

    assert out.getvalue().strip() == (
        "Cancelled: 10 tickets, 3 updated, 0 already correct, 1 failed, "
        "6 not changed (cancelled)."
    )
