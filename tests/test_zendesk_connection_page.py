"""The admin's Zendesk connection page: what is configured, never a token,
and a test that says in words how the connection went."""

import sys

import pytest
from django.test import Client
from django.urls import reverse

from accounts.roles import SUPERVISOR
from tests.servers import closed_port, free_port, running_server

pytestmark = pytest.mark.django_db(transaction=True, databases=["default", "sandbox"])

URL = reverse("zendesk-connection")


@pytest.fixture
def supervisor(make_user):
    return make_user("boss", SUPERVISOR, is_staff=True)


@pytest.fixture
def supervisor_client(client, supervisor):
    client.force_login(supervisor)
    return client


def result(response) -> tuple[str, str]:
    check = response.context["check"]
    return check.outcome, check.message


def test_shows_the_account_and_the_email_but_no_token(supervisor_client, settings):
    settings.ZENDESK_URL = "https://acme.zendesk.com"
    settings.ZENDESK_EMAIL = "agent@acme.example"
    settings.ZENDESK_API_TOKEN = "Tk-7hZq2-very-secret-api-token"

    html = supervisor_client.get(URL).content.decode()

    assert "https://acme.zendesk.com" in html
    assert "email and API token" in html
    assert "agent@acme.example" in html
    assert_no_part_of("Tk-7hZq2-very-secret-api-token", html)


def test_names_oauth_without_showing_the_token(supervisor_client, settings):
    settings.ZENDESK_OAUTH_TOKEN = "oauth-Vb81-secret-access-token"

    html = supervisor_client.get(URL).content.decode()

    assert "OAuth token" in html
    assert_no_part_of("oauth-Vb81-secret-access-token", html)
    assert_no_part_of(settings.ZENDESK_API_TOKEN, html)


def assert_no_part_of(token: str, html: str) -> None:
    """Neither the token nor any eight characters of it in a row."""
    pieces = {token[start : start + 8] for start in range(len(token) - 7)}
    assert not [piece for piece in pieces if piece in html]


def test_a_working_connection_names_the_sandbox_and_the_user(
    supervisor_client, sandbox_url, settings
):
    response = supervisor_client.post(URL)

    assert response.status_code == 200
    assert result(response) == (
        "success",
        f"Connected to the built-in sandbox ({sandbox_url}) as Sandbox agent "
        "<agent@example.com>, role admin.",
    )
    html = response.content.decode()
    assert "the built-in sandbox" in html
    assert_no_part_of(settings.ZENDESK_API_TOKEN, html)


def test_refused_credentials_are_called_bad_credentials(
    supervisor_client, worker_env, settings, tmp_path
):
    # A sandbox of its own that expects another token, as Zendesk does once
    # a token has been replaced: the page sends the configured one.
    port = free_port()
    env = worker_env(ZENDESK_API_TOKEN="the-token-zendesk-has-now")
    command = [
        sys.executable,
        "-m",
        "gunicorn",
        "tagmanager_site.wsgi",
        "--bind",
        f"127.0.0.1:{port}",
        "--workers",
        "1",
    ]
    with running_server(command, env, port, tmp_path / "sandbox.log"):
        settings.ZENDESK_URL = f"http://127.0.0.1:{port}/sandbox"
        response = supervisor_client.post(URL)

    outcome, message = result(response)
    assert outcome == "bad_credentials"
    assert message.startswith(
        f"Reached the built-in sandbox (http://127.0.0.1:{port}/sandbox), but it "
        "refused the credentials (HTTP 401: Couldn't authenticate you)."
    )
    assert_no_part_of(settings.ZENDESK_API_TOKEN, response.content.decode())


def test_a_closed_port_is_called_unreachable(supervisor_client, settings):
    port = closed_port()
    settings.ZENDESK_URL = f"http://127.0.0.1:{port}/sandbox"

    response = supervisor_client.post(URL)

    assert result(response) == (
        "unreachable",
        f"Could not reach the built-in sandbox (http://127.0.0.1:{port}/sandbox): "
        "the connection failed. Check the URL and that this server can connect "
        "to it.",
    )


def test_missing_credentials_are_named(supervisor_client, settings):
    settings.ZENDESK_API_TOKEN = ""

    response = supervisor_client.post(URL)

    assert result(response) == (
        "not_configured",
        "The connection is not configured: No Zendesk credentials: set an OAuth "
        "or API token.",
    )


def test_the_button_needs_the_csrf_token(supervisor):
    client = Client(enforce_csrf_checks=True)
    client.force_login(supervisor)

    refused = client.post(URL)
    page = client.get(URL)
    token = page.context["csrf_token"]
    accepted = client.post(URL, {"csrfmiddlewaretoken": str(token)})

    assert refused.status_code == 403
    assert accepted.status_code == 200
    assert accepted.context["check"] is not None


def test_the_admin_index_links_to_the_page(supervisor_client):
    html = supervisor_client.get(reverse("admin:index")).content.decode()

    assert f'href="{URL}"' in html
