"""The RQ worker the product runs: rq's own, plus crash recovery and a
shutdown that hands the running job back instead of waiting for its end."""

import contextlib
import ctypes
import logging
import os
import signal

from django.db import connections
from rq.worker import Worker

from jobs.recovery import recover_jobs

logger = logging.getLogger(__name__)

PR_SET_PDEATHSIG = 1  # from <linux/prctl.h>


class RecoveringWorker(Worker):
    """Looks for stopped jobs when it starts, and after a work-horse dies.

    A killed work-horse leaves its job "running" in the database and rq
    calls no failure callback for it, but the worker that forked it sees it
    go at once: that is the fastest moment to queue the job again.

    On a shutdown request rq would wait for the current job to end, which
    for 50,000 tickets can take an hour, and a supervisor such as honcho
    kills the worker long before; its work-horse, in a process group of its
    own, would then go on alone. Instead the work-horse is told to stop: the
    run gives its job back to the queue and it resumes where it stopped.
    """

    def bootstrap(self, *args, **kwargs) -> None:
        super().bootstrap(*args, **kwargs)
        self._recover("worker started")

    def handle_work_horse_killed(self, job, retpid, ret_val, rusage) -> None:
        super().handle_work_horse_killed(job, retpid, ret_val, rusage)
        self._recover(f"work-horse {retpid} died")

    def handle_warm_shutdown_request(self) -> None:
        super().handle_warm_shutdown_request()
        if self.horse_pid:
            logger.info("Asking work-horse %s to hand its job back", self.horse_pid)
            with contextlib.suppress(ProcessLookupError):
                os.kill(self.horse_pid, signal.SIGTERM)

    def setup_work_horse_signals(self) -> None:
        super().setup_work_horse_signals()
        signal.signal(signal.SIGTERM, _stop_the_run)
        # If the worker itself is killed, the kernel tells the work-horse.
        _signal_me_when_parent_dies(signal.SIGTERM)

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


def _stop_the_run(signum, frame) -> None:
    # Once is enough: a second signal would cut short the handing back.
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    # jobs.services.job_run gives the job back to the queue on SystemExit.
    raise SystemExit("the worker is shutting down")


def _signal_me_when_parent_dies(signum: int) -> None:
    """Linux only; elsewhere a killed worker's work-horse goes on, and its
    job is recovered once it ends or its heartbeat stops."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, signum)
    except (OSError, AttributeError):
        logger.debug("prctl is not available; the work-horse outlives its worker")
