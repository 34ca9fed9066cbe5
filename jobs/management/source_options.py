"""Command-line options that pick a bulk tool's tickets, checked by the same
form as the web page so that scripts get the same messages.

A command calls `add_source_arguments(parser)`, then builds its tool's form
from `source_form_input(options)` merged with its own fields, and reports
form errors with `option_for_field`.
"""

from dataclasses import dataclass, field
from pathlib import Path

from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management.base import CommandError, CommandParser

from tools.sources import SEARCH_SOURCE, TICKETS_SOURCE, VIEW_SOURCE, load_active_views
from tools.ticket_ids import MAX_FILE_BYTES
from zendesk import ZendeskClient

_OPTIONS = {
    "source": "--view/--search/--ids-file",
    "view": "--view",
    "query": "--search",
    "ticket_ids": "--ids-file",
    "ticket_file": "--ids-file",
    "limit": "--limit",
}


@dataclass
class SourceInput:
    """What the tool's form is built from: form data, uploaded files and the
    form's keyword arguments (views, or a client for the search count)."""

    data: dict = field(default_factory=dict)
    files: dict = field(default_factory=dict)
    form_kwargs: dict = field(default_factory=dict)


def add_source_arguments(parser: CommandParser) -> None:
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--view", help="the view's id (see `list_views`)")
    source.add_argument(
        "--search",
        metavar="QUERY",
        help="a Zendesk search query, e.g. 'status<solved tags:vip'",
    )
    source.add_argument(
        "--ids-file",
        metavar="PATH",
        help=(
            "a CSV file with an id or ticket_id column (or a single column), "
            "or any other file as a plain list of ids"
        ),
    )


def source_form_input(options: dict) -> SourceInput:
    """The form input for the chosen source. Loads the views for --view.
    Raises CommandError for a file that cannot be read, and ZendeskError
    when Zendesk cannot be reached."""
    # Not the web page's short waits: a script can sit out a rate limit.
    client = ZendeskClient.from_settings()
    if options.get("search") is not None:
        return SourceInput(
            data={"source": SEARCH_SOURCE, "query": options["search"]},
            form_kwargs={"client": client},
        )
    if options.get("ids_file") is not None:
        return SourceInput(
            data={"source": TICKETS_SOURCE},
            files={"ticket_file": _read_upload(Path(options["ids_file"]))},
        )
    return SourceInput(
        data={"source": VIEW_SOURCE, "view": options["view"]},
        form_kwargs={"views": load_active_views(client)},
    )


def option_for_field(name: str) -> str:
    """The command-line option a form field stands for, e.g. "--search"."""
    return _OPTIONS.get(name, "--" + name.replace("_", "-"))


def _read_upload(path: Path) -> SimpleUploadedFile:
    try:
        with path.open("rb") as opened:
            # One byte over the limit is enough for the form to refuse it.
            content = opened.read(MAX_FILE_BYTES + 1)
    except OSError as error:
        raise CommandError(
            f"--ids-file: cannot read {path}: {error.strerror}"
        ) from None
    return SimpleUploadedFile(path.name, content)
