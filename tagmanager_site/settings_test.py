"""Settings for the test suite: the sandbox on, fast and quiet, secrets fixed."""

import os

os.environ.setdefault("DEBUG", "false")
os.environ.setdefault("SECRET_KEY", "test-secret-key-that-is-long-enough-0123456789")
os.environ.setdefault("SANDBOX_ENABLED", "true")
os.environ.setdefault("ZENDESK_EMAIL", "agent@example.com")
os.environ.setdefault("ZENDESK_API_TOKEN", "sandbox-test-token")
os.environ.setdefault("SANDBOX_JOB_LATENCY_SECONDS", "0")
# Nothing listens here; tests that need Zendesk point at their live sandbox.
os.environ.setdefault("ZENDESK_URL", "http://127.0.0.1:9/sandbox")
# Nor here: tests that need Redis start their own (the `redis_url` fixture).
os.environ.setdefault("REDIS_URL", "redis://127.0.0.1:9/0")
# A budget too large to bind, so that it never slows the suite; the budget's
# own tests set a small one.
os.environ.setdefault("ZENDESK_RATE_LIMIT_PER_MINUTE", "1000000")

from tagmanager_site.settings import *  # noqa: E402,F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
ZENDESK_BACKOFF_SECONDS = 0.01

# Each test session starts with an empty cache of its own.
CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
