"""A copy of a job's progress in its RQ job's meta, so that the queue
dashboards (django-rq's and rq-dashboard) show how far each job has got. The
database stays the source of truth; this copy may lag by a second."""

import logging

from redis.exceptions import RedisError
from rq import get_current_job

from jobs.models import Job

logger = logging.getLogger(__name__)

MIRRORED_FIELDS = ("status", "phase", "total", "processed", "succeeded", "failed")


def mirror_progress(job_pk: int) -> None:
    """Copy the job's counters into the meta of the RQ job running it, when
    this process is an RQ worker running one."""
    rq_job = get_current_job()
    if rq_job is None:
        return

    progress = Job.objects.filter(pk=job_pk).values(*MIRRORED_FIELDS).first()
    if progress is None:
        return
    rq_job.meta["tagmanager_job"] = job_pk
    rq_job.meta.update(progress)
    try:
        rq_job.save_meta()
    except RedisError as error:
        # Only the dashboards lose; the job goes on.
        logger.debug("Job %s: progress not copied to RQ: %s", job_pk, error)
