"""A macro search's matches as CSV or JSON, for a spreadsheet or a script."""

import csv
import io
import json
import logging

from django.http import HttpResponse
from django.utils import timezone
from django.utils.text import slugify

from jobs.exports import defused_cell
from tools.macro_matching import MacroMatch
from tools.macros import macro_url

logger = logging.getLogger(__name__)

COLUMNS = ["id", "title", "active", "matched_in", "matching_actions", "zendesk_url"]
# Enough of the query to recognise the file by; the rest would only make the
# name unwieldy.
FILENAME_QUERY_CHARS = 40


def export_filename(query: str, extension: str) -> str:
    """The tool, the query and the day: macro-search-vip-2026-12-04.csv."""
    words = slugify(query)[:FILENAME_QUERY_CHARS].strip("-")
    parts = ["macro-search", words, timezone.localdate().isoformat()]
    return "-".join(part for part in parts if part) + f".{extension}"


def match_record(match: MacroMatch) -> dict:
    return {
        "id": match.id,
        "title": match.title,
        "active": match.active,
        "matched_in": match.matched_in,
        "matching_actions": [
            {"field": action.field, "label": action.label, "value": action.value}
            for action in match.actions
        ],
        "zendesk_url": macro_url(match.id) or "",
    }


def csv_text(matches: list[MacroMatch]) -> str:
    output = io.StringIO()
    writer = csv.writer(output)
    writer.writerow(COLUMNS)
    for match in matches:
        record = match_record(match)
        # One cell for all the actions: a spreadsheet row per macro.
        record["matching_actions"] = "; ".join(str(a) for a in match.actions)
        writer.writerow([defused_cell(record[name]) for name in COLUMNS])
    return output.getvalue()


def json_text(matches: list[MacroMatch]) -> str:
    records = [match_record(match) for match in matches]
    return json.dumps(records, ensure_ascii=False, indent=1) + "\n"


def export_response(matches: list[MacroMatch], query: str, kind: str) -> HttpResponse:
    """A download of the matches; `kind` is "csv" or "json"."""
    if kind == "csv":
        body, content_type = csv_text(matches), "text/csv; charset=utf-8"
    elif kind == "json":
        body, content_type = json_text(matches), "application/json"
    else:
        raise ValueError(f"No export of kind {kind!r}")

    response = HttpResponse(body, content_type=content_type)
    filename = export_filename(query, kind)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    logger.info("Exporting %d macro search matches as %s", len(matches), kind)
    return response
