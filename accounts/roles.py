"""The three roles, and what each may do.

A role is a Django group holding permissions; the checks below ask for
permissions, never for a group's name, so a site can grant one permission to
a single user without inventing a role. Superusers have every permission.

- Agent: runs the tools that are not admin-only; sees, cancels and retries
  their own jobs.
- Supervisor: all an agent can, on everyone's jobs; admin-only tools; the
  Django admin for tools and jobs (the account must also be staff).
- Operator: the queue dashboards and every job page, read-only.
"""

from django.contrib.auth.models import (
    AbstractBaseUser,
    AnonymousUser,
    Group,
    Permission,
)
from django.db import router
from django.db.models import QuerySet

from jobs.models import Job

AGENT = "Agent"
SUPERVISOR = "Supervisor"
OPERATOR = "Operator"

RUN_TOOLS = "jobs.add_job"
VIEW_ALL_JOBS = "jobs.view_all_jobs"
MANAGE_ALL_JOBS = "jobs.manage_all_jobs"
VIEW_DASHBOARDS = "jobs.view_queue_dashboards"
USE_ADMIN_TOOLS = "tools.use_admin_tools"
CHECK_ZENDESK_CONNECTION = "tools.check_zendesk_connection"

ROLE_PERMISSIONS = {
    AGENT: [RUN_TOOLS],
    SUPERVISOR: [
        RUN_TOOLS,
        VIEW_ALL_JOBS,
        MANAGE_ALL_JOBS,
        USE_ADMIN_TOOLS,
        CHECK_ZENDESK_CONNECTION,
        # The Django admin's pages for tools and jobs.
        "jobs.view_job",
        "jobs.view_ticketresult",
        "tools.view_tool",
        "tools.change_tool",
    ],
    OPERATOR: [VIEW_ALL_JOBS, VIEW_DASHBOARDS],
}

User = AbstractBaseUser | AnonymousUser


def sync_roles(using: str = "default") -> None:
    """Make sure each role's group exists and holds its permissions.

    A migration created them; this puts them back after a database flush
    (which the test suite does between tests). Permissions an admin added
    to a group are kept.
    """
    if not router.allow_migrate_model(using, Group):
        return
    for role, permissions in ROLE_PERMISSIONS.items():
        group, _ = Group.objects.using(using).get_or_create(name=role)
        for permission in permissions:
            app_label, codename = permission.split(".")
            group.permissions.add(
                Permission.objects.using(using).get(
                    content_type__app_label=app_label, codename=codename
                )
            )


def can_run_tools(user: User) -> bool:
    return user.has_perm(RUN_TOOLS)


def can_use_admin_tools(user: User) -> bool:
    return user.has_perm(USE_ADMIN_TOOLS)


def can_see_dashboards(user: User) -> bool:
    return user.is_authenticated and user.has_perm(VIEW_DASHBOARDS)


def can_check_zendesk_connection(user: User) -> bool:
    return user.is_authenticated and user.has_perm(CHECK_ZENDESK_CONNECTION)


def visible_jobs(user: User) -> QuerySet[Job]:
    if not user.is_authenticated:
        return Job.objects.none()
    if user.has_perm(VIEW_ALL_JOBS):
        return Job.objects.all()
    return Job.objects.filter(created_by=user)


def can_manage_job(user: User, job: Job) -> bool:
    """Whether the user may cancel, retry or re-run this job."""
    if user.has_perm(MANAGE_ALL_JOBS):
        return True
    return job.created_by_id == user.pk and can_run_tools(user)
