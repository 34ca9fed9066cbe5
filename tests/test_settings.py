"""Settings read from the environment, checked in fresh processes."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def django_process(code: str, **env: str) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("DJANGO_")}
    clean.update(DJANGO_SETTINGS_MODULE="tagmanager_site.settings", **env)
    program = f"import django; django.setup(); {code}"
    return subprocess.run(
        [sys.executable, "-c", program],
        cwd=ROOT,
        env=clean,
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.mark.parametrize("key", ["", "insecure-development-key", "too-short"])
def test_without_debug_a_real_secret_key_is_required(key):
    result = django_process("", DEBUG="false", SECRET_KEY=key)

    assert result.returncode != 0
    assert "SECRET_KEY must be set" in result.stderr


def test_the_sandbox_is_only_mounted_when_enabled():
    probe = (
        "from django.urls import resolve, Resolver404\n"
        "try:\n    resolve('/sandbox/api/v2/views/active.json'); print('mounted')\n"
        "except Resolver404:\n    print('absent')"
    )
    secret = "a-long-enough-secret-key-for-this-check-0123456789"

    off = django_process(probe, DEBUG="false", SECRET_KEY=secret, SANDBOX_ENABLED="0")
    on = django_process(probe, DEBUG="false", SECRET_KEY=secret, SANDBOX_ENABLED="1")

    assert off.stdout.strip() == "absent", off.stderr
    assert on.stdout.strip() == "mounted", on.stderr


@pytest.mark.parametrize(
    ("limit", "percent", "complaint"),
    [
        ("0", "80", "ZENDESK_RATE_LIMIT_PER_MINUTE must be above 0"),
        ("700", "0", "ZENDESK_RATE_BUDGET_PERCENT must be between 1 and 100"),
        ("700", "101", "ZENDESK_RATE_BUDGET_PERCENT must be between 1 and 100"),
    ],
)
def test_a_rate_budget_outside_its_bounds_stops_the_start(limit, percent, complaint):
    secret = "a-long-enough-secret-key-for-this-check-0123456789"

    result = django_process(
        "",
        SECRET_KEY=secret,
        ZENDESK_RATE_LIMIT_PER_MINUTE=limit,
        ZENDESK_RATE_BUDGET_PERCENT=percent,
    )

    assert result.returncode != 0
    assert complaint in result.stderr


def test_a_sandbox_fault_rate_must_be_a_fraction():
    secret = "a-long-enough-secret-key-for-this-check-0123456789"

    result = django_process(
        "", SECRET_KEY=secret, SANDBOX_ENABLED="1", SANDBOX_FAULT_THROTTLE_RATE="1.5"
    )

    assert result.returncode != 0
    assert "SANDBOX_FAULT_THROTTLE_RATE must be a fraction" in result.stderr


DATABASE_PROBE = (
    "from django.conf import settings\n"
    "for alias in ('default', 'sandbox'):\n"
    "    db = settings.DATABASES[alias]\n"
    "    print(alias, db['ENGINE'], db['NAME'], db['HOST'], db['PORT'], db['USER'])"
)
SECRET = "a-long-enough-secret-key-for-this-check-0123456789"


def test_on_postgresql_the_sandbox_gets_a_database_of_its_own_on_that_server():
    url = "postgres://tm:pw@127.0.0.1:6543/tagmanager?sslmode=disable"

    result = django_process(
        DATABASE_PROBE,
        SECRET_KEY=SECRET,
        SANDBOX_ENABLED="true",
        DATABASE_URL=url,
        SANDBOX_DATABASE_URL="",
    )

    engine = "django.db.backends.postgresql"
    assert result.stdout.splitlines() == [
        f"default {engine} tagmanager 127.0.0.1 6543 tm",
        f"sandbox {engine} tagmanager_sandbox 127.0.0.1 6543 tm",
    ], result.stderr


def test_on_sqlite_the_sandbox_is_a_file_beside_the_product_database():
    result = django_process(
        DATABASE_PROBE,
        SECRET_KEY=SECRET,
        SANDBOX_ENABLED="true",
        DATABASE_URL="sqlite:////tmp/elsewhere.sqlite3",
        SANDBOX_DATABASE_URL="",
    )

    engine = "django.db.backends.sqlite3"
    sandbox_file = ROOT / "var" / "sandbox.sqlite3"
    assert result.stdout.splitlines() == [
        f"default {engine} /tmp/elsewhere.sqlite3   ",
        f"sandbox {engine} {sandbox_file}   ",
    ], result.stderr


def test_an_explicit_sandbox_database_url_wins():
    result = django_process(
        DATABASE_PROBE,
        SECRET_KEY=SECRET,
        SANDBOX_ENABLED="true",
        DATABASE_URL="postgres://tm:pw@127.0.0.1:6543/tagmanager",
        SANDBOX_DATABASE_URL="postgres://sb:pw@127.0.0.1:6544/zendesk_copy",
    )

    sandbox = result.stdout.splitlines()[1]
    assert (
        sandbox
        == "sandbox django.db.backends.postgresql zendesk_copy 127.0.0.1 6544 sb"
    )


def test_a_job_may_not_be_given_up_on_before_two_heartbeats():
    result = django_process(
        "", SECRET_KEY=SECRET, JOB_HEARTBEAT_SECONDS="10", JOB_STALE_AFTER_SECONDS="15"
    )

    assert result.returncode != 0
    assert "JOB_STALE_AFTER_SECONDS must be at least twice" in result.stderr
