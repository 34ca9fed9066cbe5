"""One agent's whole flow in a real browser: log in, fill the form with htmx,
and watch a real worker's job finish on a page that polls by itself."""

import shutil
import threading

import pytest
from django.db import connections
from playwright.sync_api import expect, sync_playwright

from jobs.models import Job
from tests.sandbox_data import make_tickets, make_view, tags_of
from tools.models import Tool

pytestmark = pytest.mark.django_db(transaction=True, databases=["default", "sandbox"])

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
