"""Functions RQ workers run. Each takes a job's database id and nothing else."""

from jobs.services import job_run


def run_job(job_id: int) -> None:
    job_run(job_id=job_id)
