import time

from django.core.management.base import BaseCommand, CommandError, CommandParser

from sandbox import seeding


class Command(BaseCommand):
    help = (
        "Fill the Zendesk sandbox with realistic tickets and views. Without "
        "--reset it only tops up to --tickets, so it is safe to run again."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--tickets", type=int, required=True)
        parser.add_argument("--seed", type=int, default=0)
        parser.add_argument(
            "--reset", action="store_true", help="Wipe every sandbox table first."
        )

    def handle(self, *args, tickets: int, seed: int, reset: bool, **options) -> None:
        if tickets < 0:
            raise CommandError("--tickets must be 0 or more")

        started = time.monotonic()
        report = seeding.seed(tickets=tickets, seed=seed, reset=reset)
        elapsed = time.monotonic() - started

        self.stdout.write(
            f"Created {report.created} tickets in {elapsed:.1f}s; "
            f"{report.total} in the sandbox."
        )
        for status, count in report.by_status.items():
            self.stdout.write(f"  {status:<8} {count:>7}")
        self.stdout.write("Views:")
        for title, count in report.view_counts:
            self.stdout.write(f"  {count:>7}  {title}")
