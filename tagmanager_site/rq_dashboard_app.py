"""rq-dashboard, served on 127.0.0.1 behind HTTP basic auth.

    python -m tagmanager_site.rq_dashboard_app

Reads REDIS_URL (the queue's Redis), RQ_DASHBOARD_USERNAME and
RQ_DASHBOARD_PASSWORD (both required: the dashboard can delete and requeue
jobs, so it never starts open) and RQ_DASHBOARD_PORT (9181) from the
environment; the Procfile's `dashboard` process gets them from `.env`.
Django is not involved: this is rq-dashboard's own Flask app.
"""

import os
import secrets
import sys
from dataclasses import dataclass

from flask import Flask, Response, request
from gunicorn.app.base import BaseApplication
from rq_dashboard.cli import make_flask_app
from rq_dashboard.web import setup_rq_connection

BIND_ADDRESS = "127.0.0.1"
DEFAULT_PORT = 9181
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/0"
REALM = "Tag Manager queues"


class MissingCredentials(Exception):
    pass


@dataclass(frozen=True)
class DashboardConfig:
    username: str
    password: str
    redis_url: str
    port: int

    @classmethod
    def from_environment(cls, environ: dict[str, str]) -> "DashboardConfig":
        username = environ.get("RQ_DASHBOARD_USERNAME", "")
        password = environ.get("RQ_DASHBOARD_PASSWORD", "")
        if not username or not password:
            raise MissingCredentials(
                "rq-dashboard will not start without a login: set both "
                "RQ_DASHBOARD_USERNAME and RQ_DASHBOARD_PASSWORD (in .env, as "
                ".env.example shows)."
            )
        return cls(
            username=username,
            password=password,
            redis_url=environ.get("REDIS_URL") or DEFAULT_REDIS_URL,
            port=int(environ.get("RQ_DASHBOARD_PORT") or DEFAULT_PORT),
        )


def create_app(config: DashboardConfig) -> Flask:
    app = make_flask_app(config=None, username=None, password=None, url_prefix="")
    app.config["RQ_DASHBOARD_REDIS_URL"] = config.redis_url
    setup_rq_connection(app)
    # rq-dashboard's own basic auth compares passwords with `!=` and guards
    # only its blueprint; this check covers the static files too and takes
    # the same time whatever the guess.
    app.before_request(lambda: _require_login(config))
    return app


def _require_login(config: DashboardConfig) -> Response | None:
    given = request.authorization
    if (
        given is not None
        and _same(given.username, config.username)
        and _same(given.password, config.password)
    ):
        return None
    return Response(
        "Log in with RQ_DASHBOARD_USERNAME and RQ_DASHBOARD_PASSWORD.\n",
        401,
        {"WWW-Authenticate": f'Basic realm="{REALM}"'},
    )


def _same(given: str | None, expected: str) -> bool:
    return secrets.compare_digest((given or "").encode(), expected.encode())


class _Server(BaseApplication):
    """gunicorn serving one Flask app, configured here rather than from
    gunicorn's command line."""

    def __init__(self, app: Flask, port: int) -> None:
        self._app = app
        self._options = {
            "bind": f"{BIND_ADDRESS}:{port}",
            "workers": 1,
            "worker_class": "gthread",
            "threads": 4,
            "timeout": 60,
        }
        super().__init__()

    def load_config(self) -> None:
        for name, value in self._options.items():
            self.cfg.set(name, value)

    def load(self) -> Flask:
        return self._app


def main() -> None:
    try:
        config = DashboardConfig.from_environment(dict(os.environ))
    except MissingCredentials as problem:
        print(problem, file=sys.stderr)
        sys.exit(2)

    print(f"rq-dashboard on http://{BIND_ADDRESS}:{config.port}/", flush=True)
    _Server(create_app(config), config.port).run()


if __name__ == "__main__":
    main()
