"""Queue again the jobs whose run stopped without ending them."""

import time

from django.conf import settings
from django.core.management.base import BaseCommand

from jobs.recovery import recover_jobs


class Command(BaseCommand):
    help = (
        "Find jobs whose worker died, and queued jobs Redis has lost, and queue "
        "them again so they resume where they stopped."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "--watch",
            action="store_true",
            help="Keep looking, every JOB_RECOVERY_INTERVAL_SECONDS, until stopped.",
        )

    def handle(self, *args, watch: bool, **options) -> None:
        interval = settings.JOB_RECOVERY_INTERVAL_SECONDS
        if watch:
            self.stdout.write(f"Looking for stopped jobs every {interval:g} s.")
        while True:
            recovered = recover_jobs()
            if recovered:
                ids = ", ".join(str(pk) for pk in recovered)
                self.stdout.write(f"Queued again: job {ids}.")
            elif not watch:
                self.stdout.write("No stopped job found.")
            if not watch:
                return
            try:
                time.sleep(interval)
            except KeyboardInterrupt:
                return
