"""The benchmark's steps, in order, once its databases exist: the tagging
runs at the rate limit, the load check, the per-ticket script, and the
tagging runs with the rate limit off."""

import argparse
import logging
import secrets
import time
from pathlib import Path

import redis
from django.conf import settings
from django.contrib.auth.models import Group, User
from django.test import Client
from django.utils import timezone

from accounts.roles import AGENT
from bench.floor import floor_for
from bench.load_check import run_locust
from bench.per_ticket import run_per_ticket
from bench.report import Results
from bench.tagging import (
    RunFigures,
    figures_for,
    start_add_job,
    wait_until_finished,
)
from bench.world import (
    BenchError,
    Ports,
    Service,
    World,
    start_gunicorn,
    start_worker,
)
from jobs.models import Job
from jobs.services import job_cancel
from sandbox.models import RequestLog, Ticket
from sandbox.tags import tag_pattern
from zendesk.budget import BudgetRate, bucket_key

logger = logging.getLogger(__name__)

CANCEL_WAIT_SECONDS = 120
# Tags no seeded ticket has, so that every ticket needs the change.
TAG_FOR_RUNS = "bench_tagged"
LOAD_TAG = "bench_polled"


class Bench:
    def __init__(self, world: World, args: argparse.Namespace, ports: Ports) -> None:
        self.world = world
        self.args = args
        self.ports = ports
        self.report = Path(world.env["BENCH_WORKER_REPORT"])
        self.user = _bench_user()
        self.sandbox: Service | None = None
        self.worker: Service | None = None
        self.results = Results(
            job_latency=args.job_latency,
            rate_limit=settings.ZENDESK_RATE_LIMIT_PER_MINUTE,
            budget_percent=settings.ZENDESK_RATE_BUDGET_PERCENT,
            jobs_in_flight=getattr(settings, "ZENDESK_MAX_JOBS_IN_FLIGHT", None),
        )

    def run(self, limited: dict, unlimited: dict) -> Results:
        self._start_zendesk_side(limited)
        for tickets in self.args.sizes:
            self._limited_run(tickets)
        if not self.args.skip_load:
            # On the tickets of the last (largest) run, still in the sandbox.
            self._load_check(self.args.sizes[-1])
        if not self.args.skip_per_ticket:
            self._per_ticket_run(self.args.per_ticket_tickets)

        if not self.args.skip_unlimited:
            self._start_zendesk_side(unlimited)
            for tickets in self.args.sizes:
                self._unlimited_run(tickets)
        return self.results

    def _start_zendesk_side(self, scenario_env: dict) -> None:
        """The sandbox and the worker, both with the scenario's limits."""
        self.world.stop("worker")
        self.world.stop("sandbox")
        self.sandbox = start_gunicorn(
            self.world,
            "sandbox",
            self.ports.sandbox,
            workers=1,
            threads=16,
            env=scenario_env,
        )
        self.worker = start_worker(self.world, settings.REDIS_URL, scenario_env)

    # Tagging runs

    def _limited_run(self, tickets: int) -> None:
        floor = floor_for(
            tickets,
            limit_per_minute=settings.ZENDESK_RATE_LIMIT_PER_MINUTE,
            budget_percent=settings.ZENDESK_RATE_BUDGET_PERCENT,
            latency=self.args.job_latency,
        )
        # Bounded, with room for an engine far slower than its floor.
        timeout = self.args.job_timeout or 600 + 20 * floor.seconds
        run = self._tagging_run(tickets, timeout, "at the rate limit")
        self.results.limited[tickets] = (run, floor)

    def _unlimited_run(self, tickets: int) -> None:
        timeout = self.args.job_timeout or 600 + tickets / 50
        self.results.unlimited[tickets] = self._tagging_run(
            tickets, timeout, "with the rate limit off"
        )

    def _tagging_run(self, tickets: int, timeout: float, label: str) -> RunFigures:
        self._fresh_sandbox(tickets)
        logger.info("Tagging %d tickets %s", tickets, label)

        job = start_add_job(self.user, tickets, TAG_FOR_RUNS)
        job = wait_until_finished(job, self.worker, timeout)
        run = figures_for(job, tickets, self.report)
        _check_tickets_tagged(TAG_FOR_RUNS, run.succeeded)

        logger.info(
            "%d tickets %s: %.1f s, %d calls",
            tickets,
            label,
            run.wall_seconds,
            run.total_calls,
        )
        return run

    def _fresh_sandbox(self, tickets: int) -> None:
        """Fresh tickets, an empty request log and a full rate budget."""
        self.world.manage("seed_sandbox", "--tickets", str(tickets), "--reset")
        connection = redis.Redis.from_url(settings.REDIS_URL)
        connection.delete(bucket_key(settings.ZENDESK_URL))

    # The per-ticket script

    def _per_ticket_run(self, tickets: int) -> None:
        self._fresh_sandbox(tickets)
        logger.info("Tagging %d tickets one call at a time", tickets)
        rate = BudgetRate.share_of(
            settings.ZENDESK_RATE_LIMIT_PER_MINUTE, settings.ZENDESK_RATE_BUDGET_PERCENT
        )
        figures = run_per_ticket(tickets, TAG_FOR_RUNS, rate)
        figures.calls = RequestLog.objects.count()
        _check_tickets_tagged(TAG_FOR_RUNS, figures.statuses.get(200, 0))
        self.results.per_ticket = figures

    # The load check

    def _load_check(self, tickets: int) -> None:
        """Pollers of a running job's fragment. The sandbox still holds the
        last run's tickets; a new tag gives the job all of them to change."""
        web = start_gunicorn(
            self.world, "web", self.ports.web, workers=2, threads=8, env={}
        )
        try:
            job = start_add_job(self.user, tickets, LOAD_TAG)
            load_started = timezone.now()
            figures = run_locust(
                host=f"http://127.0.0.1:{self.ports.web}",
                job_id=job.pk,
                session_cookie=_session_cookie(self.user),
                pollers=self.args.pollers,
                seconds=self.args.load_seconds,
                poll_interval=self.args.poll_interval,
                workdir=self.world.workdir,
                env=self.world.env,
            )
            load_ended = timezone.now()
            web.check_alive()
            self._end_job(job)
        finally:
            self.world.stop("web")

        figures.job_running_seconds = _overlap(
            job, load_started, load_ended, self.args.load_seconds
        )
        self.results.load = figures

    def _end_job(self, job: Job) -> None:
        job_cancel(job=job)
        deadline = time.monotonic() + CANCEL_WAIT_SECONDS
        job.refresh_from_db()
        while not job.is_finished:
            if time.monotonic() > deadline:
                raise BenchError(f"Job {job.pk} did not stop after being cancelled")
            time.sleep(0.5)
            job.refresh_from_db()


def _bench_user() -> User:
    user = User.objects.create_user("bench", password=secrets.token_urlsafe(24))
    user.groups.add(Group.objects.get(name=AGENT))
    return user


def _session_cookie(user: User) -> str:
    client = Client()
    client.force_login(user)
    return client.cookies[settings.SESSION_COOKIE_NAME].value


def _check_tickets_tagged(tag: str, expected: int) -> None:
    """The sandbox agrees with the job: exactly the updated tickets carry the tag."""
    tagged = Ticket.objects.filter(tags__contains=tag_pattern(tag)).count()
    if tagged != expected:
        raise BenchError(f"{tagged} tickets carry {tag!r}; the run reported {expected}")


def _overlap(job: Job, start, end, seconds: float) -> float:
    job.refresh_from_db()
    if job.started_at is None:
        return 0.0
    running_until = min(job.finished_at or end, end)
    running = (running_until - max(job.started_at, start)).total_seconds()
    # The window includes locust's own start and stop, a second or so.
    return min(max(0.0, running), seconds)
