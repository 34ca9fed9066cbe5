"""Every role against every page and action (job pages, the admin, the queue
dashboards, the tools), as one table of expectations.

Each cell is what the role gets: a status code, or LOGIN for being sent to a
log-in page (a 302 there, or for an htmx request a 200 whose HX-Redirect
points there). Add a row to ACTIONS and EXPECTED to cover another page.

`pytest tests/test_role_matrix.py -k every_action -s` prints the table.
"""

from collections.abc import Callable

import pytest
from django.http import HttpResponse
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from accounts.roles import AGENT, OPERATOR, SUPERVISOR
from jobs.models import Job, TicketResult
from tests.job_helpers import job_row
from tools.models import Tool

pytestmark = pytest.mark.django_db

LOGIN = "login"
ROLES = ["anonymous", "agent", "other agent", "supervisor", "operator", "superuser"]

HX = {"HX-Request": "true"}
CHANGELIST = "/admin/jobs/job/"


def _admin_action(name: str, job_key: str, **extra: str) -> Callable:
    def post(client: Client, jobs: dict[str, Job]) -> HttpResponse:
        data = {"action": name, "_selected_action": [jobs[job_key].pk], **extra}
        return client.post(CHANGELIST, data)

    return post


def _turned_off_tool(client: Client, jobs: dict[str, Job]) -> HttpResponse:
    Tool.objects.filter(slug="tag-manager").update(enabled=False)
    return client.get(reverse("tools:form", args=["tag-manager"]))


MACRO_SEARCH = reverse("tools:form", args=["macro-search"])
APPLY_MACRO = reverse("tools:form", args=["apply-macro"])


def _turned_off_macro_search(url: str) -> Callable:
    def get(client: Client, jobs: dict[str, Job]) -> HttpResponse:
        Tool.objects.filter(slug="macro-search").update(enabled=False)
        return client.get(url, {"q": "vip"})

    return get


# What each action does, given a client and the jobs: "finished" (an agent's
# job that ended with failed tickets) and "running" (the same agent's).
ACTIONS: dict[str, Callable[[Client, dict[str, Job]], HttpResponse]] = {
    "job list": lambda c, jobs: c.get("/jobs/"),
    "job page": lambda c, jobs: c.get(f"/jobs/{jobs['finished'].pk}/"),
    "progress fragment": lambda c, jobs: c.get(
        f"/jobs/{jobs['running'].pk}/", headers=HX
    ),
    "cancel": lambda c, jobs: c.post(f"/jobs/{jobs['running'].pk}/cancel/"),
    "retry confirmation": lambda c, jobs: c.get(f"/jobs/{jobs['finished'].pk}/retry/"),
    "retry": lambda c, jobs: c.post(f"/jobs/{jobs['finished'].pk}/retry/"),
    "export csv": lambda c, jobs: c.get(f"/jobs/{jobs['finished'].pk}/export.csv"),
    "export json": lambda c, jobs: c.get(f"/jobs/{jobs['finished'].pk}/export.json"),
    "admin job list": lambda c, jobs: c.get(CHANGELIST),
    "admin job results": lambda c, jobs: c.get(
        f"/admin/jobs/ticketresult/?job__id__exact={jobs['finished'].pk}"
    ),
    "admin cancel": _admin_action("cancel_jobs", "running"),
    "admin retry": _admin_action("retry_failed_tickets", "finished"),
    "admin export": _admin_action("export_results", "finished"),
    "admin re-run, asked": _admin_action("rerun_jobs", "finished"),
    "admin re-run, confirmed": _admin_action("rerun_jobs", "finished", post="yes"),
    "queue dashboard": lambda c, jobs: c.get(reverse("django_rq:home")),
    "queue dashboard, a queue": lambda c, jobs: c.get(
        reverse("django_rq:jobs", args=[0])
    ),
    "queue stats json": lambda c, jobs: c.get(reverse("django_rq:home_json")),
    "zendesk connection": lambda c, jobs: c.get(reverse("zendesk-connection")),
    "zendesk connection test": lambda c, jobs: c.post(reverse("zendesk-connection")),
    "tool admin list": lambda c, jobs: c.get(reverse("admin:tools_tool_changelist")),
    "tool admin change": lambda c, jobs: c.get(
        reverse("admin:tools_tool_change", args=[jobs["finished"].tool_id])
    ),
    "tool admin add": lambda c, jobs: c.get(reverse("admin:tools_tool_add")),
    "turned-off tool": _turned_off_tool,
    "macro search": lambda c, jobs: c.get(MACRO_SEARCH),
    # Queries too short to send to Zendesk: the answers show how far a request
    # got (past who may search) without a Zendesk to ask.
    "macro search results": lambda c, jobs: c.get(MACRO_SEARCH, {"q": "v"}, headers=HX),
    "macro search csv": lambda c, jobs: c.get(
        reverse("tools:macro-search-export-csv"), {"q": "v"}
    ),
    "macro search json": lambda c, jobs: c.get(
        reverse("tools:macro-search-export-json"), {"q": "v"}
    ),
    "turned-off macro search": _turned_off_macro_search(MACRO_SEARCH),
    # An admin-only tool. There is no Zendesk here: the page still opens, with
    # the views and macros reported as not loaded.
    "apply macro form": lambda c, jobs: c.get(APPLY_MACRO),
    "apply macro post": lambda c, jobs: c.post(
        APPLY_MACRO, {"source": "tickets", "ticket_ids": "1"}, headers=HX
    ),
    "turned-off macro search csv": _turned_off_macro_search(
        reverse("tools:macro-search-export-csv")
    ),
}

# Columns in the order of ROLES.
EXPECTED: dict[str, tuple] = {
    "job list": (LOGIN, 200, 200, 200, 200, 200),
    "job page": (LOGIN, 200, 404, 200, 200, 200),
    "progress fragment": (LOGIN, 200, 404, 200, 200, 200),
    "cancel": (LOGIN, 302, 404, 302, 403, 302),
    "retry confirmation": (LOGIN, 200, 404, 200, 403, 200),
    "retry": (LOGIN, 302, 404, 302, 403, 302),
    "export csv": (LOGIN, 200, 404, 200, 200, 200),
    "export json": (LOGIN, 200, 404, 200, 200, 200),
    "admin job list": (LOGIN, LOGIN, LOGIN, 200, 403, 200),
    "admin job results": (LOGIN, LOGIN, LOGIN, 200, 403, 200),
    "admin cancel": (LOGIN, LOGIN, LOGIN, 302, 403, 302),
    "admin retry": (LOGIN, LOGIN, LOGIN, 302, 403, 302),
    "admin export": (LOGIN, LOGIN, LOGIN, 200, 403, 200),
    "admin re-run, asked": (LOGIN, LOGIN, LOGIN, 200, 403, 200),
    "admin re-run, confirmed": (LOGIN, LOGIN, LOGIN, 302, 403, 302),
    "queue dashboard": (LOGIN, 403, 403, 403, 200, 200),
    "queue dashboard, a queue": (LOGIN, 403, 403, 403, 200, 200),
    "queue stats json": (LOGIN, 403, 403, 403, 200, 200),
    "zendesk connection": (LOGIN, LOGIN, LOGIN, 200, 403, 200),
    "zendesk connection test": (LOGIN, LOGIN, LOGIN, 200, 403, 200),
    "tool admin list": (LOGIN, LOGIN, LOGIN, 200, 403, 200),
    "tool admin change": (LOGIN, LOGIN, LOGIN, 200, 403, 200),
    "tool admin add": (LOGIN, LOGIN, LOGIN, 403, 403, 403),
    "turned-off tool": (LOGIN, 404, 404, 404, 404, 404),
    "macro search": (LOGIN, 200, 200, 200, 404, 200),
    "macro search results": (LOGIN, 200, 200, 200, 404, 200),
    "macro search csv": (LOGIN, 400, 400, 400, 404, 400),
    "macro search json": (LOGIN, 400, 400, 400, 404, 400),
    "turned-off macro search": (LOGIN, 404, 404, 404, 404, 404),
    "turned-off macro search csv": (LOGIN, 404, 404, 404, 404, 404),
    "apply macro form": (LOGIN, 404, 404, 200, 404, 200),
    "apply macro post": (LOGIN, 404, 404, 200, 404, 200),
}

CASES = [
    (role, action, EXPECTED[action][column])
    for action in EXPECTED
    for column, role in enumerate(ROLES)
]


def matrix_table() -> str:
    """The expectations as a Markdown table."""
    lines = [
        "| action | " + " | ".join(ROLES) + " |",
        "|---" * (len(ROLES) + 1) + "|",
    ]
    for action, cells in EXPECTED.items():
        lines.append(f"| {action} | " + " | ".join(str(c) for c in cells) + " |")
    return "\n".join(lines)


@pytest.fixture
def people(make_user, django_user_model) -> dict:
    return {
        "anonymous": None,
        "agent": make_user("agent", AGENT),
        "other agent": make_user("other", AGENT),
        "supervisor": make_user("supervisor", SUPERVISOR, is_staff=True),
        # Staff, as the demo makes them: django-rq's pages ask for it.
        "operator": make_user("operator", OPERATOR, is_staff=True),
        "superuser": django_user_model.objects.create_superuser("root", password="x"),
    }


@pytest.fixture
def jobs(people, rq_queue) -> dict[str, Job]:
    # Retries and re-runs go to the (real) queue instead of calling Zendesk.
    Tool.objects.filter(slug="tag-manager").update(inline_ticket_limit=0)
    owner = people["agent"]
    return {"finished": _finished_job(owner), "running": _running_job(owner)}


def _finished_job(owner) -> Job:
    job = job_row(
        owner,
        status=Job.Status.COMPLETED_WITH_ERRORS,
        phase=Job.Phase.DONE,
        total=3,
        processed=3,
        succeeded=1,
        failed=2,
        started_at=timezone.now(),
        finished_at=timezone.now(),
    )
    Outcome = TicketResult.Outcome
    TicketResult.objects.bulk_create(
        TicketResult(job=job, ticket_id=ticket_id, outcome=outcome)
        for ticket_id, outcome in [
            (1, Outcome.UPDATED),
            (2, Outcome.FAILED),
            (3, Outcome.FAILED),
        ]
    )
    return job


def _running_job(owner) -> Job:
    return job_row(
        owner,
        status=Job.Status.RUNNING,
        phase=Job.Phase.UPDATING,
        total=100,
        processed=10,
        started_at=timezone.now(),
    )


@pytest.mark.parametrize(
    ("role", "action", "expected"),
    CASES,
    ids=[f"{role}-{action}" for role, action, _ in CASES],
)
def test_role_against_action(client, people, jobs, role, action, expected):
    if people[role] is not None:
        client.force_login(people[role])

    response = ACTIONS[action](client, jobs)

    assert _what_happened(response) == expected


def _what_happened(response: HttpResponse) -> int | str:
    if _sends_to_login(response):
        return LOGIN
    return response.status_code


def _sends_to_login(response: HttpResponse) -> bool:
    target = response.get("HX-Redirect") or response.get("Location") or ""
    return target.startswith(("/login/", "/admin/login/"))


def test_every_action_has_a_row_of_expectations():
    assert set(ACTIONS) == set(EXPECTED)
    assert all(len(cells) == len(ROLES) for cells in EXPECTED.values())
    print(matrix_table())
