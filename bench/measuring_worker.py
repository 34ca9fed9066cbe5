"""The product's worker, measuring each job in the work-horse that runs it.

With BENCH_WORKER_REPORT set, every job appends one JSON line to that file:
the job's arguments, its database queries (bench/query_count.py) and the
work-horse's peak resident memory.
"""

import json
import logging
import os
import resource
from pathlib import Path

from django.db import connections

from bench.query_count import QueryCounter
from jobs.worker import RecoveringWorker

logger = logging.getLogger(__name__)


class MeasuringWorker(RecoveringWorker):
    def perform_job(self, job, queue) -> bool:
        # perform_job runs in the forked work-horse, so what is counted and
        # measured here is the job's own process.
        counter = QueryCounter()
        try:
            with connections["default"].execute_wrapper(counter):
                return super().perform_job(job, queue)
        finally:
            _report(job.args, counter)


def _report(job_args: tuple, counter: QueryCounter) -> None:
    record = {
        "args": list(job_args),
        "queries": counter.summary(),
        "peak_rss_kb": peak_rss_kb(),
    }
    logger.info("Bench measurement: %s", json.dumps(record))
    target = os.environ.get("BENCH_WORKER_REPORT")
    if target:
        with Path(target).open("a") as report:
            report.write(json.dumps(record) + "\n")


def peak_rss_kb() -> int:
    """This process's peak resident set (VmHWM), in kB.

    A forked work-horse starts with the pages it shares with the worker, so
    this is the whole footprint the kernel would hold against it.
    """
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
