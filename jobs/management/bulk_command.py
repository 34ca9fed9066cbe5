"""What the bulk tools' commands share: starting a job from the tool's own
form, following it with a progress bar, and exit codes scripts can test."""

import sys
import time

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser

from jobs.management.source_options import (
    add_source_arguments,
    option_for_field,
    source_form_input,
)
from jobs.models import Job
from jobs.services import job_start
from tools.access import can_use_tool, is_turned_off, turned_off_message
from tools.registry import get_tool
from zendesk import ZendeskError

EXIT_OK, EXIT_FAILED, EXIT_BAD_INPUT = 0, 1, 2
POLL_SECONDS = 1.0
STILL_QUEUED_POLLS = 10  # say so every 10 s while nothing picks the job up
BAR_WIDTH = 40


class BulkToolCommand(BaseCommand):
    """A command that runs one bulk tool. Subclasses name the tool, add its
    own arguments and turn them into the tool form's data."""

    tool_slug = ""
    # Form fields whose errors are about the subclass's own options.
    field_options: dict[str, str] = {}

    def add_tool_arguments(self, parser: CommandParser) -> None:
        raise NotImplementedError

    def tool_form_data(self, options: dict) -> dict:
        raise NotImplementedError

    def add_arguments(self, parser: CommandParser) -> None:
        add_source_arguments(parser)
        self.add_tool_arguments(parser)
        parser.add_argument(
            "--limit",
            default="10000",
            help="take at most this many tickets from the view or search "
            "(default 10000)",
        )
        parser.add_argument(
            "--dry-run", action="store_true", help="show what would change only"
        )
        parser.add_argument(
            "--user", help="who the job runs as (default: the first superuser)"
        )

    def handle(self, *args, **options) -> None:
        try:
            job = self._start(options)
        except CommandError as error:
            self.stderr.write(str(error))
            sys.exit(EXIT_BAD_INPUT)
        except ZendeskError as error:
            # Not the input's fault: the job could not even be prepared.
            self.stderr.write(
                f"Could not load what the job needs from Zendesk: {error}"
            )
            sys.exit(EXIT_FAILED)

        self.stdout.write(
            f"Job {job.pk}: {get_tool(job.tool.slug).describe(job.params)}"
        )
        try:
            job = self._follow(job)
        except KeyboardInterrupt:
            job.refresh_from_db()
            self.stderr.write(
                f"\nStopped following job {job.pk}, which is "
                f"{job.get_status_display().lower()}; see {job.get_absolute_url()}"
            )
            sys.exit(EXIT_FAILED)
        self._report(job)
        sys.exit(_exit_code(job))

    def _start(self, options: dict) -> Job:
        tool = get_tool(self.tool_slug)
        user = _user(options["user"])
        if is_turned_off(tool):
            raise CommandError(turned_off_message(tool))
        if not can_use_tool(user, tool):
            raise CommandError(f"{user} may not use the {tool.name}.")
        source = source_form_input(options)

        data = {
            **source.data,
            **self.tool_form_data(options),
            "limit": options["limit"],
            "dry_run": options["dry_run"],
        }
        form = tool.get_form(data, source.files, **source.form_kwargs)
        if not form.is_valid():
            raise CommandError(self._form_errors(form))
        return job_start(
            tool=tool,
            user=user,
            params=form.job_params(),
            expected_tickets=form.expected_ticket_count(),
        )

    def _form_errors(self, form) -> str:
        lines = []
        for field, errors in form.errors.items():
            label = self.field_options.get(field) or option_for_field(field)
            lines.extend(f"{label}: {error}" for error in errors)
        if "view" in form.errors:
            lines.append("`python manage.py list_views` lists the views and their ids.")
        return "\n".join(lines)

    def _follow(self, job: Job) -> Job:
        polls = 0
        while not job.is_finished:
            self._draw(job)
            time.sleep(POLL_SECONDS)
            polls += 1
            job.refresh_from_db()
            if job.status == Job.Status.QUEUED and polls % STILL_QUEUED_POLLS == 0:
                self.stderr.write(
                    f"\nStill queued after {polls * POLL_SECONDS:.0f} s: is a worker "
                    "running (`python manage.py rqworker default`)? Ctrl-C stops "
                    "following the job without cancelling it."
                )
        self._draw(job)
        self.stdout.write("")
        return job

    def _draw(self, job: Job) -> None:
        filled = BAR_WIDTH * job.percent // 100
        bar = "#" * filled + "-" * (BAR_WIDTH - filled)
        if job.status == Job.Status.RUNNING and job.phase == Job.Phase.COLLECTING:
            figures = f"collecting tickets: {job.total:,} found"
        else:
            figures = f"{job.processed:,}/{job.total:,} {job.get_status_display()}"
        self.stdout.write(f"\r[{bar}] {job.percent:3d}% {figures}  ", ending="")
        self.stdout.flush()

    def _report(self, job: Job) -> None:
        if job.dry_run:
            self.stdout.write(
                f"Dry run: {job.total:,} in scope, {job.would_change:,} would change, "
                f"{job.unchanged:,} already correct, {job.failed:,} would fail"
                f"{self._not_applicable(job)}."
            )
        else:
            self.stdout.write(
                f"{job.get_status_display()}: {job.total:,} tickets, "
                f"{job.succeeded:,} updated, {job.unchanged:,} already correct, "
                f"{job.failed:,} failed{self._not_applicable(job)}"
                f"{self._not_done(job)}."
            )
        if job.error_message:
            self.stderr.write(job.error_message)

    def _not_applicable(self, job: Job) -> str:
        if not job.not_applicable:
            return ""
        return f", {job.not_applicable:,} not applicable"

    def _not_done(self, job: Job) -> str:
        """The tickets a cancel left untouched, so the figures add up."""
        left = job.total - job.processed
        if job.status != Job.Status.CANCELLED or left <= 0:
            return ""
        return f", {left:,} not changed (cancelled)"


def _user(name: str | None):
    users = get_user_model().objects
    if name:
        try:
            return users.get(username=name)
        except users.model.DoesNotExist:
            raise CommandError(f"There is no user called {name!r}.") from None
    user = users.filter(is_superuser=True).order_by("pk").first()
    if user is None:
        raise CommandError("Name the user to run as with --user.")
    return user


def _exit_code(job: Job) -> int:
    if job.status == Job.Status.SUCCEEDED:
        return EXIT_OK
    return EXIT_FAILED
