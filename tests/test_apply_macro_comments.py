"""How Apply Macro recognises its own comment on a ticket, however Zendesk
stored it. A stand-in client serves the ticket's comments."""

from datetime import UTC, datetime

from tools.apply_macro import ApplyMacro

JOB_CREATED = datetime(2026, 12, 4, 12, 0, tzinfo=UTC)


class CommentsOnly:
    def __init__(self, comments: list[dict]) -> None:
        self.comments = comments

    def iter_ticket_comments(self, ticket_id: int, *, newest_first: bool = False):
        return iter(self.comments)


def stored(created_at: str, **forms: str) -> dict:
    return {"created_at": created_at, "public": True, **forms}


def applied(comments: list[dict], comment: dict) -> bool | None:
    found = ApplyMacro().find_applied(
        CommentsOnly(comments),
        [7],
        {},
        changes={7: {"comment": comment}},
        since=JOB_CREATED,
    )
    return found[7]


def test_an_html_comment_is_recognised_in_zendesks_plain_rendering():
    html = "<p>Tom &amp; Jerry</p><ul><li>one</li><li>two</li></ul>"
    zendesk = stored("2026-12-04T12:01:00Z", body="Tom & Jerry\n\none\ntwo")

    assert applied([zendesk], {"html_body": html, "public": True})


def test_a_text_comment_is_recognised_in_its_html_rendering():
    zendesk = stored("2026-12-04T12:01:00Z", html_body="<p>Done.<br>Thanks</p>")

    assert applied([zendesk], {"body": "Done.\nThanks", "public": True})


def test_a_comment_older_than_the_job_is_not_the_jobs():
    older = stored("2026-12-04T11:00:00Z", body="Done.")

    assert applied([older], {"body": "Done.", "public": True}) is False


def test_another_comment_is_not_the_jobs():
    other = stored("2026-12-04T12:01:00Z", body="Something else.")

    assert applied([other], {"body": "Done.", "public": True}) is False
