"""Four real workers running four jobs at once keep, together, to the product's
share of the account's rate limit, as counted in the sandbox's own request log;
and the product gives way when others spend the account's allowance.
"""

import logging
from datetime import datetime, timedelta

import pytest
import redis
from django.utils import timezone

from jobs.models import Job
from jobs.services import job_start
from sandbox.models import RequestLog
from tests.sandbox_data import make_tickets, make_view, tags_of
from tools.registry import get_tool
from zendesk import ZendeskClient
from zendesk.budget import BudgetRate, bucket_key

pytestmark = pytest.mark.django_db(transaction=True, databases=["default", "sandbox"])

ACCOUNT_LIMIT_PER_MINUTE = 300
BUDGET_PERCENT = 80
BUDGET = BudgetRate.share_of(ACCOUNT_LIMIT_PER_MINUTE, BUDGET_PERCENT)  # 4 a second

JOBS = 4
# Two requests per 100 tickets (a page of the view, an update), so that the
# four jobs together need 144 requests: over 30 s at the budget's rate, some
# 5 s without it.
TICKETS_PER_JOB = 1_800

# A turn is taken from the bucket a moment before the sandbox stamps the
# request's arrival, and that moment varies with the machine's load, which
# can squeeze a few more arrivals than turns into one window.
ARRIVAL_JITTER_SECONDS = 0.5


@pytest.fixture
def user(django_user_model):
    return django_user_model.objects.create_user("agent", password="unused-pw-1")


def has_tag(tag: str) -> dict:
    return {"field": "current_tags", "operator": "includes", "value": tag}


def start_job(user, group: int) -> Job:
    view = make_view(f"Group {group}", all_conditions=[has_tag(f"group{group}")])
    params = {
        "source": {"type": "view", "id": view.pk, "title": view.title},
        "operation": "add",
        "tags": [f"done{group}"],
        "limit": 10_000,
        "dry_run": False,
    }
    tool = get_tool("tag-manager")
    return job_start(tool=tool, user=user, params=params, expected_tickets=10_000)


def most_in_any_window(times: list[datetime], width: timedelta) -> int:
    """The largest number of `times` inside any window of `width`."""
    most, first = 0, 0
    for last, moment in enumerate(times):
        while times[first] <= moment - width:
            first += 1
        most = max(most, last - first + 1)
    return most


def allowed_in(seconds: float) -> float:
    """What the bucket lets through in any window of `seconds`: its burst and
    its rate over the window."""
    return BUDGET.burst + BUDGET.per_second * (seconds + ARRIVAL_JITTER_SECONDS)


def test_four_workers_running_four_jobs_stay_within_the_shared_budget(
    user, run_workers, settings
):
    # The sandbox plays an account with this limit; the product may use 80%.
    settings.SANDBOX_RATE_LIMIT_PER_MINUTE = ACCOUNT_LIMIT_PER_MINUTE
    ticket_ids = make_tickets(
        JOBS * TICKETS_PER_JOB, tags=lambda n: ["base", f"group{n % JOBS}"]
    )
    jobs = [start_job(user, group) for group in range(JOBS)]

    run_workers(
        JOBS,
        ZENDESK_RATE_LIMIT_PER_MINUTE=str(ACCOUNT_LIMIT_PER_MINUTE),
        ZENDESK_RATE_BUDGET_PERCENT=str(BUDGET_PERCENT),
    )

    for job in jobs:
        job.refresh_from_db()
        assert job.status == Job.Status.SUCCEEDED, job.error_message
        assert job.succeeded == TICKETS_PER_JOB
    assert all(len(tags) == 3 for tags in tags_of(ticket_ids).values())
    # The four really ran side by side, one in each worker.
    assert max(job.started_at for job in jobs) < min(job.finished_at for job in jobs)

    log = RequestLog.objects.order_by("at")
    assert not log.filter(status_code=429).exists()
    times = list(log.values_list("at", flat=True))
    assert_within_budget(times)


def assert_within_budget(times: list[datetime]) -> None:
    run_seconds = (times[-1] - times[0]).total_seconds()
    print(
        f"\n{len(times)} requests in {run_seconds:.1f} s; budget "
        f"{BUDGET.per_minute:.0f} a minute ({BUDGET.per_second:.1f} a second, "
        f"burst {BUDGET.burst:.0f}) of an account limit of "
        f"{ACCOUNT_LIMIT_PER_MINUTE} a minute"
    )

    windows = [10, 30, 60] if run_seconds >= 60 else [10, 30]
    for seconds in windows:
        peak = most_in_any_window(times, timedelta(seconds=seconds))
        print(
            f"busiest {seconds} s: {peak} requests, {peak * 60 / seconds:.0f} a "
            f"minute (the bucket allows {allowed_in(seconds):.0f})"
        )
        assert peak <= allowed_in(seconds)


def test_when_others_spend_the_allowance_the_shared_budget_slows_down(
    sandbox_url, rq_queue, settings, caplog
):
    settings.SANDBOX_RATE_LIMIT_PER_MINUTE = 100
    # Agents' requests, in this minute and the next, so that the sandbox
    # counts them whichever minute the client's request falls in.
    now = timezone.now()
    agents = [
        RequestLog(at=moment, method="PUT", path="/agent", status_code=200)
        for moment in (now, now + timedelta(seconds=60))
        for _ in range(90)
    ]
    RequestLog.objects.bulk_create(agents)

    with caplog.at_level(logging.INFO, logger="zendesk.budget"):
        ZendeskClient.from_settings().list_active_views()

    assert "requests left this minute" in caplog.text
    shared = redis.Redis.from_url(settings.RQ_QUEUES["default"]["URL"])
    slow_until = float(shared.hget(bucket_key(sandbox_url), "slow_until"))
    assert slow_until > shared.time()[0]
