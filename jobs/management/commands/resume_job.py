"""Queue a failed job again, to go on from where it stopped."""

from django.core.management.base import BaseCommand, CommandError

from jobs.models import Job
from jobs.services import job_resume


class Command(BaseCommand):
    help = (
        "Resume a job that failed (for example on refused credentials, once "
        "they are fixed): its failed tickets are tried again, the rest keep "
        "their outcomes."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("job_id", type=int)

    def handle(self, *args, job_id: int, **options) -> None:
        job = Job.objects.filter(pk=job_id).first()
        if job is None:
            raise CommandError(f"There is no job {job_id}.")
        if not job_resume(job=job):
            state = job.get_status_display().lower()
            where = f"is {state}" if not job.is_finished else f"ended {state}"
            raise CommandError(
                f"Job {job_id} {where}; only a failed job can be resumed."
            )
        job.refresh_from_db()
        self.stdout.write(f"Job {job_id} queued again ({job.rq_job_id}).")
