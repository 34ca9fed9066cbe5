"""Whole flows in a real browser: an agent logs in, fills the form with htmx,
dry-runs, runs a job on a real worker, watches it finish on a page that polls
by itself and downloads its results; a supervisor cancels a job from the
admin."""

import csv
import io
import shutil
import threading

import pytest
from django.db import connections
from django.utils import timezone
from playwright.sync_api import expect, sync_playwright

from accounts.roles import SUPERVISOR
from jobs.models import Job
from tests.conftest import ROOT
from tests.job_helpers import new_job
from tests.sandbox_data import make_tickets, make_view, tags_of
from tools.models import Tool

pytestmark = pytest.mark.django_db(transaction=True, databases=["default", "sandbox"])

# Screenshots for a person to look at after the run; var/ is not committed.
ARTIFACTS = ROOT / "var" / "test-artifacts"

CHROMIUM = "/usr/bin/chromium"
# Without these, Chromium reaches out to Google's services at start-up.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture
def browser_page(monkeypatch):
    if not shutil.which(CHROMIUM):
        pytest.fail(f"{CHROMIUM} is missing; `make test` installs Debian's chromium.")
    # Playwright's sync API runs an event loop in this thread; the ORM calls
    # made here between browser steps are still plain synchronous calls.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, args=CHROMIUM_ARGS
        )
        page = browser.new_page()
        page.set_default_timeout(15_000)
        yield page
        browser.close()
        # Django keeps connections per context, and Playwright's block is a
        # context of its own: close the ones opened in it, or PostgreSQL will
        # not drop the test database while they linger.
        connections.close_all()


@pytest.fixture
def agent_page(browser_page, live_server, make_user):
    """A browser page logged in as an agent, on the tools dashboard."""
    make_user("agent", password="browser-pw-123")
    page = browser_page
    page.goto(f"{live_server.url}/")
    page.fill("#id_username", "agent")
    page.fill("#id_password", "browser-pw-123")
    page.click("button[type=submit]")
    expect(page.locator("h1")).to_have_text("Tools")
    return page


def fill_tag_form(page, view, tags: str, *, dry_run: bool) -> None:
    page.click('nav a:text("Tools")')
    page.click('ul.tools a:text("Tag Manager")')
    page.select_option("#id_view", str(view.pk))
    page.fill("#id_tags", tags)
    page.fill("#id_limit", "1000")
    page.set_checked("#id_dry_run", dry_run)
    page.click("#tool-form button[type=submit]")


def watch_until_finished(page, status: str) -> None:
    """Wait for the polling page to show the job ended, at 100%, and to have
    stopped polling."""
    progress = page.locator("#job-progress")
    expect(progress).to_contain_text(status, timeout=60_000)
    expect(progress.locator("progress")).to_have_attribute("value", "100")
    expect(progress).not_to_have_attribute("hx-trigger", "every 2s")


def test_an_agent_tags_a_view_and_watches_the_job_finish(
    sandbox_url, run_worker, agent_page
):
    page = agent_page
    ticket_ids = make_tickets(250)
    view = make_view("Everything")
    # Small enough to run inline by default; make it go through the worker.
    Tool.objects.filter(slug="tag-manager").update(inline_ticket_limit=100)
    page.click('ul.tools a:text("Tag Manager")')

    page.select_option("#id_view", str(view.pk))
    page.fill("#id_tags", "Browser Run")
    expect(page.locator("#tag-preview")).to_contain_text("browser")
    expect(page.locator("#tag-preview code.tag")).to_have_count(2)
    page.fill("#id_limit", "1000")
    page.click("#tool-form button[type=submit]")

    expect(page.locator("#job-progress")).to_contain_text("Queued")
    job = Job.objects.get()
    assert page.url.endswith(job.get_absolute_url())

    worker = threading.Thread(target=run_worker)
    worker.start()
    expect(page.locator("#job-progress")).to_contain_text("Succeeded", timeout=30_000)
    worker.join()

    progress = page.locator("#job-progress")
    expect(progress).to_contain_text("250 / 250")
    assert progress.get_attribute("hx-trigger") is None
    assert all(
        tags == ["base", "browser", "run"] for tags in tags_of(ticket_ids).values()
    )


def test_bad_input_shows_field_errors_in_place(sandbox_url, agent_page):
    page = agent_page
    view = make_view("Everything")
    page.click('ul.tools a:text("Tag Manager")')

    page.select_option("#id_view", str(view.pk))
    page.fill("#id_tags", "fine, <bad>")
    expect(page.locator("#tag-preview")).to_contain_text("cannot hold")
    page.click("#tool-form button[type=submit]")

    error = page.locator("#tool-form .has-error p.error")
    expect(error).to_contain_text("“<bad>” has characters a tag cannot hold")
    expect(page.locator("#id_tags")).to_have_value("fine, <bad>")
    assert page.url.endswith("/tools/tag-manager/")
    assert Job.objects.count() == 0


def test_an_agent_dry_runs_then_runs_1000_tickets_and_downloads_the_results(
    sandbox_url, processes, agent_page
):
    page = agent_page
    ticket_ids = make_tickets(1_000)
    view = make_view("Everything")
    # Both runs go through the worker, as a view of this size would by default.
    Tool.objects.filter(slug="tag-manager").update(inline_ticket_limit=100)
    processes("rqworker", "default")

    fill_tag_form(page, view, "flow", dry_run=True)
    watch_until_finished(page, "Succeeded")
    expect(page.locator("h1")).to_contain_text("(dry run)")
    expect(page.locator(".counts")).to_contain_text("Would change1,000")
    assert all(tags == ["base"] for tags in tags_of(ticket_ids).values())

    fill_tag_form(page, view, "flow", dry_run=False)
    expect(page.locator("#job-progress")).to_be_visible()
    job = Job.objects.get(dry_run=False)
    assert page.url.endswith(job.get_absolute_url())
    watch_until_finished(page, "Succeeded")
    expect(page.locator("#job-progress")).to_contain_text("1,000 / 1,000")
    expect(page.locator("#cancel-job")).to_have_count(0)

    with page.expect_download() as download_info:
        page.click("text=Download CSV")
    download = download_info.value
    rows = list(csv.DictReader(io.StringIO(download.path().read_text())))

    today = timezone.localdate().isoformat()
    assert download.suggested_filename == f"tag-manager-job-{job.pk}-{today}.csv"
    assert sorted(int(row["ticket_id"]) for row in rows) == sorted(ticket_ids)
    assert {row["outcome"] for row in rows} == {"updated"}
    assert all("flow" in tags for tags in tags_of(ticket_ids).values())
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=ARTIFACTS / "finished-job-page.png", full_page=True)


def test_a_supervisor_cancels_a_queued_job_from_the_admin(
    browser_page, live_server, make_user
):
    page = browser_page
    agent = make_user("agent")
    make_user("boss", SUPERVISOR, is_staff=True, password="browser-pw-456")
    job = new_job(agent, make_view("Everything"))

    page.goto(f"{live_server.url}/admin/jobs/job/")
    page.fill("#id_username", "boss")
    page.fill("#id_password", "browser-pw-456")
    page.click("input[type=submit]")
    page.check(f'input[name="_selected_action"][value="{job.pk}"]')
    page.select_option('select[name="action"]', "cancel_jobs")
    page.click('button[name="index"]')

    expect(page.locator("ul.messagelist")).to_contain_text(f"Cancelled jobs {job.pk}.")
    job.refresh_from_db()
    assert job.status == Job.Status.CANCELLED


def test_an_agent_uploads_a_csv_of_ticket_ids(sandbox_url, agent_page, tmp_path):
    page = agent_page
    listed = make_tickets(15)
    others = make_tickets(3)
    ids_file = tmp_path / "to tag.csv"
    ids_file.write_text("id\n" + "\n".join(str(pk) for pk in listed) + "\n")
    page.click('ul.tools a:text("Tag Manager")')

    # Only the chosen source's fields show.
    expect(page.locator("#id_view")).to_be_visible()
    expect(page.locator("#id_query")).to_be_hidden()
    page.check('input[name=source][value="tickets"]')
    expect(page.locator("#id_view")).to_be_hidden()
    expect(page.locator("#id_limit")).to_be_hidden()
    expect(page.locator("#id_ticket_ids")).to_be_visible()

    page.set_input_files("#id_ticket_file", str(ids_file))
    page.fill("#id_tags", "from_file")
    page.click("#tool-form button[type=submit]")

    expect(page.locator("#job-progress")).to_contain_text("Succeeded")
    expect(page.locator("main")).to_contain_text("15 tickets from to tag.csv")
    assert all("from_file" in tags for tags in tags_of(listed).values())
    assert not any("from_file" in tags for tags in tags_of(others).values())
