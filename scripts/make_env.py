"""Print a .env for a demo on this machine: sandbox on, fresh random secrets."""

import secrets

print(
    f"""# Written by `make run` for a demo on this machine. See .env.example.
DEBUG=false
DEMO_MODE=true
SECRET_KEY={secrets.token_urlsafe(48)}
# Served over plain HTTP on 127.0.0.1, so cookies cannot require HTTPS.
SESSION_COOKIE_SECURE=false
CSRF_COOKIE_SECURE=false
# make run starts this Redis server itself (RUN_LOCAL_REDIS).
REDIS_URL=redis://127.0.0.1:6390/0
RUN_LOCAL_REDIS=true
SANDBOX_ENABLED=true
# The sandbox gets a server process of its own (the Procfile's "sandbox"), so
# runs made inside a web request never wait on their own server's threads.
ZENDESK_URL=http://127.0.0.1:8001/sandbox
ZENDESK_EMAIL=demo-agent@example.com
ZENDESK_API_TOKEN={secrets.token_urlsafe(24)}
DEMO_ADMIN_PASSWORD={secrets.token_urlsafe(9)}
DEMO_AGENT_PASSWORD={secrets.token_urlsafe(9)}
DEMO_SUPERVISOR_PASSWORD={secrets.token_urlsafe(9)}
DEMO_OPERATOR_PASSWORD={secrets.token_urlsafe(9)}
# rq-dashboard, on http://127.0.0.1:9181/ (HTTP basic auth).
RQ_DASHBOARD_USERNAME=operator
RQ_DASHBOARD_PASSWORD={secrets.token_urlsafe(18)}"""
)
