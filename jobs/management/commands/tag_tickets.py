"""Tag the tickets of a view, a search or a file of ids from the command line,
the same way the form does."""

from django.core.management.base import CommandParser

from jobs.management.bulk_command import BulkToolCommand


class Command(BulkToolCommand):
    help = (
        "Add or remove tags on the tickets of a Zendesk view, a search or a "
        "file of ticket ids, and follow the job. `list_views` shows the views' "
        "ids. Exits 0 when every ticket succeeded, 1 when some failed or the "
        "job could not run, 2 on bad input."
    )
    tool_slug = "tag-manager"
    field_options = {"operation": "--add/--remove", "tags": "--add/--remove"}

    def add_tool_arguments(self, parser: CommandParser) -> None:
        change = parser.add_mutually_exclusive_group(required=True)
        change.add_argument("--add", nargs="+", metavar="TAG", help="tags to add")
        change.add_argument("--remove", nargs="+", metavar="TAG", help="tags to remove")

    def tool_form_data(self, options: dict) -> dict:
        return {
            "operation": "add" if options["add"] else "remove",
            "tags": ", ".join(options["add"] or options["remove"]),
        }
