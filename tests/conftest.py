"""Real services for the tests: a Redis server of the session's own, the
sandbox served over real HTTP, and RQ workers in their own processes."""

import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from urllib.parse import quote

import django_rq
import pytest
import redis
from django.conf import settings
from django.contrib.auth.models import Group
from django.core.cache import cache

from accounts.roles import AGENT
from tests.processes import Process
from tests.sandbox_api import API_TOKEN, EMAIL, Api

ROOT = Path(__file__).resolve().parent.parent
WORKER_COMMAND = [sys.executable, "manage.py", "rqworker", "default", "--burst"]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="session")
def redis_url(tmp_path_factory) -> str:
    """A redis-server started for this test session alone, on a free port."""
    executable = shutil.which("redis-server")
    if executable is None:
        pytest.fail("redis-server is not installed; `make test` installs it.")

    port = _free_port()
    workdir = tmp_path_factory.mktemp("redis")
    server = subprocess.Popen(
        [
            executable,
            "--bind",
            "127.0.0.1",
            "--port",
            str(port),
            "--save",
            "",
            "--appendonly",
            "no",
            "--dir",
            str(workdir),
        ],
        stdout=subprocess.DEVNULL,
    )
    url = f"redis://127.0.0.1:{port}/0"
    _wait_for_redis(url)
    yield url
    server.terminate()
    server.wait(timeout=10)


def _wait_for_redis(url: str) -> None:
    connection = redis.Redis.from_url(url)
    for _ in range(100):
        try:
            connection.ping()
            return
        except redis.ConnectionError:
            time.sleep(0.05)
    pytest.fail(f"redis-server did not start at {url}")


@pytest.fixture
def rq_queue(redis_url, settings):
    """The default queue on the session's Redis, empty at the start."""
    settings.RQ_QUEUES = {
        "default": {"URL": redis_url, "DEFAULT_TIMEOUT": 3600},
    }
    queue = django_rq.get_queue("default")
    queue.connection.flushdb()
    return queue


@pytest.fixture
def make_user(django_user_model):
    """Create a user holding a role (a group), or none with `role=None`."""

    def make(username: str, role: str | None = AGENT, **fields):
        fields.setdefault("password", "unused-pw-1")
        user = django_user_model.objects.create_user(username, **fields)
        if role is not None:
            user.groups.add(Group.objects.get(name=role))
        return user

    return make


@pytest.fixture
def agent_client(client, make_user):
    """The test client, logged in as an agent."""
    client.force_login(make_user("agent"))
    return client


@pytest.fixture
def sandbox_url(live_server, settings) -> str:
    """Point the product's Zendesk client at the sandbox, over real HTTP."""
    url = f"{live_server.url}/sandbox"
    settings.ZENDESK_URL = url
    cache.clear()
    return url


@pytest.fixture
def worker_env(rq_queue, sandbox_url) -> Callable[..., dict[str, str]]:
    """Builds the environment for a worker process sharing this test's
    databases, Redis and sandbox, from the environment as it is when the
    worker starts (a test may have set more), plus `extra`."""

    def build(**extra: str) -> dict[str, str]:
        return {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "tagmanager_site.settings_test",
            "DATABASE_URL": _test_database_url("default"),
            "SANDBOX_DATABASE_URL": _test_database_url("sandbox"),
            "REDIS_URL": settings.RQ_QUEUES["default"]["URL"],
            "ZENDESK_URL": sandbox_url,
            **extra,
        }

    return build


@pytest.fixture
def run_worker(worker_env):
    """Run a real `rqworker --burst` process until the queue is empty."""

    def run() -> subprocess.CompletedProcess:
        return subprocess.run(
            WORKER_COMMAND,
            cwd=ROOT,
            env=worker_env(),
            capture_output=True,
            text=True,
            timeout=240,
            check=True,
        )

    return run


@pytest.fixture
def run_workers(worker_env, tmp_path):
    """Run `count` real `rqworker --burst` processes at the same time, with
    extra environment variables, until all have stopped; returns their logs."""

    def run(count: int, timeout: float = 240, **extra_env: str) -> list[str]:
        env = worker_env(**extra_env)
        logs = [tmp_path / f"worker-{n}.log" for n in range(count)]
        workers = [_start_worker(env, log) for log in logs]
        deadline = time.monotonic() + timeout
        try:
            codes = [
                worker.wait(timeout=max(0, deadline - time.monotonic()))
                for worker in workers
            ]
        finally:
            for worker in workers:
                if worker.poll() is None:
                    worker.kill()
                    worker.wait()
        outputs = [log.read_text() for log in logs]
        assert codes == [0] * count, "\n".join(outputs)
        return outputs

    return run


def _start_worker(env: dict[str, str], log: Path) -> subprocess.Popen:
    # A file, not a pipe: several chatty workers would fill a pipe nobody reads.
    with log.open("w") as output:
        return subprocess.Popen(
            WORKER_COMMAND, cwd=ROOT, env=env, stdout=output, stderr=output
        )


def _test_database_url(alias: str) -> str:
    """The database the test session is using, for a worker process to share.

    Once pytest-django has set up the test databases, NAME holds the test
    database's name (a file for SQLite, test_... on PostgreSQL)."""
    database = settings.DATABASES[alias]
    if database["ENGINE"].endswith("sqlite3"):
        return f"sqlite:///{database['NAME']}"

    assert database["ENGINE"].endswith("postgresql"), "expected SQLite or PostgreSQL"
    user, password = (
        quote(str(database[key]), safe="") for key in ("USER", "PASSWORD")
    )
    server = f"{database['HOST']}:{database['PORT']}"
    return f"postgres://{user}:{password}@{server}/{database['NAME']}"


@pytest.fixture
def processes(worker_env, settings, tmp_path):
    """Start long-running `manage.py` processes (workers, the recovery
    watcher) that beat every second and give a job up after three. Zendesk
    jobs take a moment and a run keeps two in flight, so that progress comes
    in steps a test can act between. All are stopped at the end, and their
    output is printed for a failing test."""
    settings.SANDBOX_JOB_LATENCY_SECONDS = 0.05
    started: list[Process] = []
    log = tmp_path / "processes.log"

    def start(*command: str) -> Process:
        env = worker_env(
            JOB_HEARTBEAT_SECONDS="1",
            JOB_STALE_AFTER_SECONDS="3",
            JOB_RECOVERY_INTERVAL_SECONDS="1",
            ZENDESK_MAX_JOBS_IN_FLIGHT="2",
        )
        process = Process(env, log, *command)
        started.append(process)
        return process

    yield start
    for process in started:
        process.stop()
    print(log.read_text()[-20_000:])


@pytest.fixture
def api(client, settings) -> Api:
    """The sandbox's API through Django's test client, with the credentials
    it expects and no rate limit or job latency in the way."""
    settings.ZENDESK_EMAIL = EMAIL
    settings.ZENDESK_API_TOKEN = API_TOKEN
    settings.SANDBOX_RATE_LIMIT_PER_MINUTE = 0
    settings.SANDBOX_JOB_LATENCY_SECONDS = 0
    return Api(client)
