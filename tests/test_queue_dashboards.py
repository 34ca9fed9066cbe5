"""The two queue dashboards: django-rq's inside the site, for operators, and
rq-dashboard as a process of its own behind HTTP basic auth."""

import importlib.metadata
import os
import subprocess
import sys
from pathlib import Path

import pytest
import requests
import rq
from django.urls import reverse

from accounts.roles import AGENT, OPERATOR, SUPERVISOR
from tests.servers import ROOT, closed_port, free_port, running_server

DJANGO_RQ_HOME = reverse("django_rq:home")
DASHBOARD_COMMAND = [sys.executable, "-m", "tagmanager_site.rq_dashboard_app"]


def noop() -> None:
    """What the test jobs would run; no worker runs them here."""


def enqueue_now(queue) -> rq.job.Job:
    # Straight to Redis: django-rq's queue waits for a commit that a test
    # inside a transaction never makes.
    return rq.Queue(queue.name, connection=queue.connection).enqueue(noop)


@pytest.fixture
def operator(make_user):
    # The demo's operator is staff too: django-rq's pages are admin pages.
    return make_user("watcher", OPERATOR, is_staff=True)


@pytest.mark.django_db
def test_django_rq_shows_the_queue_to_an_operator(client, operator, rq_queue):
    job = enqueue_now(rq_queue)
    client.force_login(operator)

    home = client.get(DJANGO_RQ_HOME)
    detail = client.get(reverse("django_rq:job_detail", args=[0, job.id]))

    assert home.status_code == 200
    assert "default" in home.content.decode()
    assert detail.status_code == 200
    assert job.id in detail.content.decode()


@pytest.mark.django_db
def test_django_rq_sends_anonymous_users_to_log_in(client, rq_queue):
    url = reverse("django_rq:jobs", args=[0])

    response = client.get(url)

    assert response.status_code == 302
    assert response["Location"] == f"{reverse('login')}?next={url}"


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("role", "staff", "message"),
    [
        (AGENT, False, "The queue dashboard is for operators."),
        (SUPERVISOR, True, "The queue dashboard is for operators."),
        (OPERATOR, False, "your account also needs staff status"),
    ],
)
def test_django_rq_refuses_everyone_else(
    client, make_user, rq_queue, role, staff, message
):
    client.force_login(make_user("someone", role, is_staff=staff))

    responses = [
        client.get(DJANGO_RQ_HOME),
        client.get(reverse("django_rq:home_json")),
        client.post(reverse("django_rq:clear", args=[0]), {"post": "yes"}),
    ]

    assert [response.status_code for response in responses] == [403, 403, 403]
    assert message in responses[0].content.decode()


@pytest.mark.django_db
def test_django_rq_is_not_also_inside_the_admin(client, make_user, rq_queue):
    client.force_login(make_user("boss", SUPERVISOR, is_staff=True))

    response = client.get("/admin/django_rq/dashboard/")

    assert response.status_code == 404


@pytest.mark.django_db
def test_django_rq_says_when_redis_is_down(client, operator, settings):
    port = closed_port()
    settings.RQ_QUEUES = {"default": {"URL": f"redis://127.0.0.1:{port}/0"}}
    client.force_login(operator)

    response = client.get(DJANGO_RQ_HOME)

    assert response.status_code == 503
    html = response.content.decode()
    assert "The queue dashboard cannot reach Redis" in html
    assert f"Redis at 127.0.0.1:{port} does not answer" in html


@pytest.mark.django_db
def test_the_navbar_links_operators_to_both_dashboards(client, operator, make_user):
    client.force_login(operator)
    operator_page = client.get(reverse("jobs:list")).content.decode()
    client.force_login(make_user("agent", AGENT))
    agent_page = client.get(reverse("jobs:list")).content.decode()

    links = [f'href="{DJANGO_RQ_HOME}"', 'href="http://127.0.0.1:9181/"']
    assert all(link in operator_page for link in links)
    assert not any(link in agent_page for link in links)


# rq-dashboard


def pinned_version(package: str) -> str:
    requirements = (ROOT / "requirements" / "prod.txt").read_text().splitlines()
    for line in requirements:
        name, _, version = line.partition("==")
        if name.lower() == package.lower():
            return version
    raise AssertionError(f"{package} is not pinned in requirements/prod.txt")


@pytest.mark.parametrize("package", ["rq-dashboard", "six", "Flask", "Werkzeug"])
def test_rq_dashboard_runs_with_the_pinned_versions(package):
    assert importlib.metadata.version(package) == pinned_version(package)


def dashboard_env(redis_url: str, port: int, **credentials: str) -> dict[str, str]:
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith("RQ_DASHBOARD_")
    }
    return {
        **env,
        "REDIS_URL": redis_url,
        "RQ_DASHBOARD_PORT": str(port),
        **credentials,
    }


def test_rq_dashboard_asks_for_its_login(redis_url, rq_queue, tmp_path: Path):
    enqueue_now(rq_queue)
    enqueue_now(rq_queue)
    port = free_port()
    env = dashboard_env(
        redis_url,
        port,
        RQ_DASHBOARD_USERNAME="watcher",
        RQ_DASHBOARD_PASSWORD="a-long-dashboard-password",
    )
    base = f"http://127.0.0.1:{port}"
    login = ("watcher", "a-long-dashboard-password")

    with running_server(DASHBOARD_COMMAND, env, port, tmp_path / "dashboard.log"):
        anonymous = requests.get(f"{base}/", timeout=10)
        wrong = requests.get(f"{base}/", auth=("watcher", "guess"), timeout=10)
        page = requests.get(f"{base}/", auth=login, timeout=10)
        queues = requests.get(f"{base}/0/data/queues.json", auth=login, timeout=10)

    assert (anonymous.status_code, wrong.status_code) == (401, 401)
    assert anonymous.headers["WWW-Authenticate"].startswith("Basic")
    assert page.status_code == 200
    assert "RQ dashboard" in page.text
    counts = {queue["name"]: queue["count"] for queue in queues.json()["queues"]}
    assert counts["default"] == 2


@pytest.mark.parametrize(
    "credentials",
    [
        {},
        {"RQ_DASHBOARD_USERNAME": "watcher"},
        {"RQ_DASHBOARD_PASSWORD": "a-long-dashboard-password"},
        {"RQ_DASHBOARD_USERNAME": "", "RQ_DASHBOARD_PASSWORD": ""},
    ],
)
def test_rq_dashboard_refuses_to_start_without_its_login(redis_url, credentials):
    env = dashboard_env(redis_url, free_port(), **credentials)

    finished = subprocess.run(
        DASHBOARD_COMMAND, cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )

    assert finished.returncode != 0
    assert finished.stderr.strip() == (
        "rq-dashboard will not start without a login: set both "
        "RQ_DASHBOARD_USERNAME and RQ_DASHBOARD_PASSWORD (in .env, as "
        ".env.example shows)."
    )
