"""Supervisors change a tool's settings in the admin; a tool turned off
disappears, and its page and the command line say so."""

import io

import pytest
from django.core.management import call_command
from django.urls import reverse

from accounts.roles import SUPERVISOR
from tools.models import MAX_TICKET_LIMIT, Tool
from tools.registry import get_tool

pytestmark = pytest.mark.django_db(databases=["default", "sandbox"])

TURNED_OFF = (
    "The Tag Manager is turned off. A supervisor can turn it back on under "
    "Tools in the admin."
)


@pytest.fixture
def row():
    return get_tool("tag-manager").get_row()


@pytest.fixture
def supervisor_client(client, make_user):
    client.force_login(make_user("boss", SUPERVISOR, is_staff=True))
    return client


def change_url(row) -> str:
    return reverse("admin:tools_tool_change", args=[row.pk])


def post_settings(client, row, **changes):
    data = {
        "enabled": "on",
        "inline_ticket_limit": "500",
        "background_ticket_limit": "50000",
        **changes,
    }
    return client.post(change_url(row), {k: v for k, v in data.items() if v != ""})


def test_a_supervisor_changes_a_tools_settings(supervisor_client, row):
    response = post_settings(
        supervisor_client,
        row,
        enabled="",
        requires_admin="on",
        inline_ticket_limit="200",
        background_ticket_limit="20000",
    )

    assert response.status_code == 302
    row.refresh_from_db()
    assert (
        row.enabled,
        row.requires_admin,
        row.inline_ticket_limit,
        row.background_ticket_limit,
    ) == (False, True, 200, 20_000)


def test_slug_name_and_category_stay_as_the_code_says(supervisor_client, row):
    page = supervisor_client.get(change_url(row))
    response = post_settings(
        supervisor_client, row, slug="renamed", name="Renamed", category="Other"
    )

    assert response.status_code == 302
    row.refresh_from_db()
    assert (row.slug, row.name, row.category) == ("tag-manager", "Tag Manager", "Tags")
    form_fields = set(page.context["adminform"].form.fields)
    assert form_fields == {
        "enabled",
        "requires_admin",
        "inline_ticket_limit",
        "background_ticket_limit",
    }


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        (
            {"inline_ticket_limit": "0"},
            "inline_ticket_limit",
            "A ticket limit must be at least 1.",
        ),
        (
            {"background_ticket_limit": "0"},
            "background_ticket_limit",
            "A ticket limit must be at least 1.",
        ),
        (
            {"inline_ticket_limit": "600", "background_ticket_limit": "500"},
            "inline_ticket_limit",
            "The inline limit (600) cannot be above the background limit (500): "
            "every run that fits inline must also be allowed in the background.",
        ),
        (
            {"background_ticket_limit": str(MAX_TICKET_LIMIT + 1)},
            "background_ticket_limit",
            "The background limit can be at most 50,000 tickets.",
        ),
    ],
)
def test_limits_that_make_no_sense_are_refused(
    supervisor_client, row, changes, field, message
):
    response = post_settings(supervisor_client, row, **changes)

    assert response.status_code == 200
    assert response.context["adminform"].form.errors[field] == [message]
    row.refresh_from_db()
    assert (row.inline_ticket_limit, row.background_ticket_limit) == (500, 50_000)


def test_tools_are_neither_added_nor_deleted_in_the_admin(supervisor_client, row):
    add = supervisor_client.get(reverse("admin:tools_tool_add"))
    delete = supervisor_client.post(
        reverse("admin:tools_tool_delete", args=[row.pk]), {"post": "yes"}
    )

    assert (add.status_code, delete.status_code) == (403, 403)
    assert Tool.objects.filter(pk=row.pk).exists()


def test_a_turned_off_tool_leaves_the_dashboard(agent_client, row):
    before = agent_client.get(reverse("tools:dashboard"))
    Tool.objects.filter(pk=row.pk).update(enabled=False)
    after = agent_client.get(reverse("tools:dashboard"))

    form_url = reverse("tools:form", args=["tag-manager"])
    assert form_url in before.content.decode()
    assert form_url not in after.content.decode()


def test_a_turned_off_tools_page_says_so(agent_client, row):
    Tool.objects.filter(pk=row.pk).update(enabled=False)
    url = reverse("tools:form", args=["tag-manager"])

    page = agent_client.get(url)
    posted = agent_client.post(url, {"tags": "vip"})

    for response in (page, posted):
        assert response.status_code == 404
        assert TURNED_OFF in response.content.decode()


def test_a_turned_off_tool_answers_htmx_in_words(agent_client, row):
    Tool.objects.filter(pk=row.pk).update(enabled=False)
    url = reverse("tools:form", args=["tag-manager"])

    response = agent_client.post(url, {"tags": "vip"}, headers={"HX-Request": "true"})

    assert response.status_code == 404
    assert response["Content-Type"].startswith("text/plain")
    assert response.content.decode() == TURNED_OFF


def test_tag_tickets_refuses_a_turned_off_tool(django_user_model, row):
    django_user_model.objects.create_superuser("root", password="unused-pw-9")
    Tool.objects.filter(pk=row.pk).update(enabled=False)
    out, err = io.StringIO(), io.StringIO()

    with pytest.raises(SystemExit) as exit_:
        call_command(
            "tag_tickets", "--view", "7", "--add", "vip", stdout=out, stderr=err
        )

    assert exit_.value.code == 2
    assert err.getvalue().strip() == TURNED_OFF
