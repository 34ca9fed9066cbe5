"""Count the API calls the sandbox served, by endpoint, over a time window."""

import re
from collections import Counter
from datetime import datetime

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.dateparse import parse_datetime

from sandbox.models import RequestLog

# Ids and job-status ids vary; group the calls by the shape of their path.
_NUMBER = re.compile(r"/\d+(?=/|\.json|$)")
_JOB_ID = re.compile(r"/job_statuses/[0-9a-f]{32}")


class Command(BaseCommand):
    help = (
        "Count the calls the sandbox served, by endpoint: during one job's run "
        "(--job) or between two times."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--job", type=int, help="a Tag Manager job's id")
        parser.add_argument("--since", help="ISO 8601 time")
        parser.add_argument("--until", help="ISO 8601 time")

    def handle(self, *args, **options) -> None:
        since, until = self._window(options)
        calls = RequestLog.objects.filter(at__gte=since)
        if until:
            calls = calls.filter(at__lte=until)

        by_endpoint = Counter(
            f"{method} {endpoint_of(path)}"
            for method, path in calls.values_list("method", "path")
        )
        for endpoint, count in by_endpoint.most_common():
            self.stdout.write(f"{count:8,}  {endpoint}")
        self.stdout.write(f"{sum(by_endpoint.values()):8,}  in all")

    def _window(self, options: dict) -> tuple[datetime, datetime | None]:
        if options["job"]:
            from jobs.models import Job

            try:
                job = Job.objects.get(pk=options["job"])
            except Job.DoesNotExist:
                raise CommandError(f"There is no job {options['job']}.") from None
            if not job.started_at:
                raise CommandError(f"Job {job.pk} has not started.")
            return job.started_at, job.finished_at

        since = parse_datetime(options["since"] or "")
        if since is None:
            raise CommandError("Give --job, or --since as an ISO 8601 time.")
        return since, parse_datetime(options["until"] or "")


def endpoint_of(path: str) -> str:
    path = _JOB_ID.sub("/job_statuses/{id}", path)
    return _NUMBER.sub("/{id}", path)
