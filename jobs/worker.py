"""The RQ worker the product runs: rq's own, plus crash recovery."""

import logging

from django.db import connections
from rq.worker import Worker

from jobs.recovery import recover_jobs

logger = logging.getLogger(__name__)


class RecoveringWorker(Worker):
    """Looks for stopped jobs when it starts, and after a work-horse dies.

    A killed work-horse leaves its job "running" in the database and rq
    calls no failure callback for it, but the worker that forked it sees it
    go at once: that is the fastest moment to queue the job again.
    """

    def bootstrap(self, *args, **kwargs) -> None:
        super().bootstrap(*args, **kwargs)
        self._recover("worker started")

    def handle_work_horse_killed(self, job, retpid, ret_val, rusage) -> None:
        super().handle_work_horse_killed(job, retpid, ret_val, rusage)
        self._recover(f"work-horse {retpid} died")

    def _recover(self, occasion: str) -> None:
        try:
            recovered = recover_jobs()
        except Exception:
            # Recovery must never stop the worker; the timer tries again.
            logger.exception("Job recovery failed (%s)", occasion)
            return
        finally:
            # The next work-horse is forked from this process and must not
            # share its database connection.
            connections.close_all()
        if recovered:
            logger.warning("Jobs queued again (%s): %s", occasion, recovered)
