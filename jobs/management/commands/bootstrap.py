"""Get a checkout ready to run: databases migrated, and in a demo the users
and the sandbox's tickets in place."""

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandParser

DEMO_TICKETS = 10_000


class Command(BaseCommand):
    help = (
        "Migrate every database; with SANDBOX_ENABLED, seed the sandbox; "
        "with DEMO_MODE, create the demo users."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--tickets", type=int, default=DEMO_TICKETS)

    def handle(self, *args, **options) -> None:
        for database in settings.DATABASES:
            call_command("migrate", database=database, interactive=False, verbosity=0)
            self.stdout.write(f"Database {database!r} is up to date.")

        if settings.SANDBOX_ENABLED:
            call_command("seed_sandbox", tickets=options["tickets"], stdout=self.stdout)
        if settings.DEMO_MODE:
            call_command("create_demo_users", stdout=self.stdout)
