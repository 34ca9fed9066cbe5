"""Who reaches the queue dashboards, the Tool admin and the Zendesk connection
page: one row per (role, page), the expected answer as data.

A 302 names where it leads: the site's log-in page, or the admin's (which the
admin sends anyone to who is not staff).
"""

import pytest
from django.urls import reverse

from accounts.roles import AGENT, OPERATOR, SUPERVISOR
from tools.models import Tool
from tools.registry import get_tool

pytestmark = pytest.mark.django_db(databases=["default", "sandbox"])

LOGIN = (302, "/login/")
ADMIN_LOGIN = (302, "/admin/login/")
OK = (200, None)
REFUSED = (403, None)
GONE = (404, None)

ROLES = ["anonymous", "agent", "supervisor", "operator", "superuser"]

# page: (method, url name, url arguments)
PAGES = {
    "django-rq dashboard": ("get", "django_rq:home", []),
    "django-rq queue": ("get", "django_rq:jobs", [0]),
    "django-rq stats json": ("get", "django_rq:home_json", []),
    "zendesk connection": ("get", "zendesk-connection", []),
    "zendesk connection test": ("post", "zendesk-connection", []),
    "tool admin list": ("get", "admin:tools_tool_changelist", []),
    "tool admin change": ("get", "admin:tools_tool_change", ["tool"]),
    "tool admin add": ("get", "admin:tools_tool_add", []),
    "turned-off tool": ("get", "tools:form", ["tag-manager"]),
}

EXPECTED = {
    "django-rq dashboard": [LOGIN, REFUSED, REFUSED, OK, OK],
    "django-rq queue": [LOGIN, REFUSED, REFUSED, OK, OK],
    "django-rq stats json": [LOGIN, REFUSED, REFUSED, OK, OK],
    "zendesk connection": [ADMIN_LOGIN, ADMIN_LOGIN, OK, REFUSED, OK],
    "zendesk connection test": [ADMIN_LOGIN, ADMIN_LOGIN, OK, REFUSED, OK],
    "tool admin list": [ADMIN_LOGIN, ADMIN_LOGIN, OK, REFUSED, OK],
    "tool admin change": [ADMIN_LOGIN, ADMIN_LOGIN, OK, REFUSED, OK],
    "tool admin add": [ADMIN_LOGIN, ADMIN_LOGIN, REFUSED, REFUSED, REFUSED],
    "turned-off tool": [LOGIN, GONE, GONE, GONE, GONE],
}

CASES = [
    (role, page, expected)
    for page, answers in EXPECTED.items()
    for role, expected in zip(ROLES, answers, strict=True)
]


def log_in(client, make_user, django_user_model, role: str) -> None:
    """Accounts as the demo makes them: supervisors and operators are staff."""
    if role == "anonymous":
        return
    if role == "superuser":
        user = django_user_model.objects.create_superuser("root", password="x-pw-1")
    else:
        group = {"agent": AGENT, "supervisor": SUPERVISOR, "operator": OPERATOR}
        user = make_user(role, group[role], is_staff=role != "agent")
    client.force_login(user)


def page_url(page: str, tool: Tool) -> tuple[str, str]:
    method, name, args = PAGES[page]
    args = [tool.pk if arg == "tool" else arg for arg in args]
    return method, reverse(name, args=args)


@pytest.mark.parametrize(("role", "page", "expected"), CASES)
def test_role_reaches_page(
    client, make_user, django_user_model, rq_queue, role, page, expected
):
    tool = get_tool("tag-manager").get_row()
    if page == "turned-off tool":
        Tool.objects.filter(pk=tool.pk).update(enabled=False)
    log_in(client, make_user, django_user_model, role)
    method, url = page_url(page, tool)

    response = getattr(client, method)(url)

    status, goes_to = expected
    assert response.status_code == status
    if goes_to is not None:
        assert response["Location"].startswith(goes_to)
