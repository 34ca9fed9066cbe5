"""Pollers of one job's progress fragment, as the job page's htmx does it.

Run by bench/load_check.py, which sets the job, the session cookie and the
interval through the environment."""

import os

from locust import FastHttpUser, constant, task

JOB_ID = os.environ.get("BENCH_JOB_ID", "0")
SESSION_COOKIE = os.environ.get("BENCH_SESSION_COOKIE", "")
POLL_SECONDS = float(os.environ.get("BENCH_POLL_SECONDS", "2"))


class JobPagePoller(FastHttpUser):
    wait_time = constant(POLL_SECONDS)

    @task
    def poll_progress(self) -> None:
        self.client.get(
            f"/jobs/{JOB_ID}/",
            headers={"HX-Request": "true", "Cookie": f"sessionid={SESSION_COOKIE}"},
            name="/jobs/<id>/ (htmx fragment)",
        )
