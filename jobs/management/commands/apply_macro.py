"""Apply a macro to the tickets of a view, a search or a file of ids from the
command line, the same way the form does."""

from django.core.management.base import CommandParser

from jobs.management.bulk_command import BulkToolCommand


class Command(BulkToolCommand):
    help = (
        "Apply one of the account's active macros to the tickets of a Zendesk "
        "view, a search or a file of ticket ids, and follow the job. Exits 0 "
        "when every ticket succeeded, 1 when some failed or the job could not "
        "run, 2 on bad input."
    )
    tool_slug = "apply-macro"
    field_options = {"macro": "--macro"}

    def add_tool_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--macro", required=True, metavar="ID", help="the active macro's id"
        )

    def tool_form_data(self, options: dict) -> dict:
        return {"macro": options["macro"]}
