"""The three roles and what each may do."""

import pytest

from accounts.roles import (
    AGENT,
    OPERATOR,
    SUPERVISOR,
    can_manage_job,
    can_see_dashboards,
    visible_jobs,
)
from tests.job_helpers import new_job
from tests.sandbox_data import make_view
from tools.access import can_use_tool
from tools.models import Tool
from tools.registry import get_tool

pytestmark = pytest.mark.django_db(databases=["default", "sandbox"])


@pytest.fixture
def people(make_user, django_user_model):
    return {
        "agent": make_user("agent", AGENT),
        "other agent": make_user("other", AGENT),
        "supervisor": make_user("supervisor", SUPERVISOR),
        "operator": make_user("operator", OPERATOR),
        "no role": make_user("nobody", None),
        "superuser": django_user_model.objects.create_superuser("root", password="x"),
    }


def test_who_may_use_a_tool_and_an_admin_only_one(people):
    tool = get_tool("tag-manager")
    may_use = {name for name, user in people.items() if can_use_tool(user, tool)}
    assert may_use == {"agent", "other agent", "supervisor", "superuser"}

    Tool.objects.filter(slug=tool.slug).update(requires_admin=True)
    may_use = {name for name, user in people.items() if can_use_tool(user, tool)}
    assert may_use == {"supervisor", "superuser"}

    Tool.objects.filter(slug=tool.slug).update(enabled=False)
    assert not any(can_use_tool(user, tool) for user in people.values())


def test_who_sees_and_manages_an_agents_job(people):
    job = new_job(people["agent"], make_view("Everything"))

    sees = {name for name, user in people.items() if job in visible_jobs(user)}
    manages = {name for name, user in people.items() if can_manage_job(user, job)}

    assert sees == {"agent", "supervisor", "operator", "superuser"}
    assert manages == {"agent", "supervisor", "superuser"}


def test_only_operators_and_superusers_see_the_queue_dashboards(people):
    allowed = {name for name, user in people.items() if can_see_dashboards(user)}
    assert allowed == {"operator", "superuser"}
