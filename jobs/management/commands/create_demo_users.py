"""Create the demo's users and print how to log in. Demo mode only."""

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand, CommandError

from accounts.roles import AGENT, OPERATOR, SUPERVISOR

DEMO_USERS = [
    # user name, password setting, role (a group; None for a superuser)
    ("admin", "DEMO_ADMIN_PASSWORD", None),
    ("supervisor", "DEMO_SUPERVISOR_PASSWORD", SUPERVISOR),
    ("operator", "DEMO_OPERATOR_PASSWORD", OPERATOR),
    ("agent", "DEMO_AGENT_PASSWORD", AGENT),
]
# Supervisors work in the Django admin, and the queue dashboards live there.
STAFF_ROLES = {SUPERVISOR, OPERATOR}


class Command(BaseCommand):
    help = "Create or reset the demo users (only with DEMO_MODE on)."

    def handle(self, *args, **options) -> None:
        if not settings.DEMO_MODE:
            raise CommandError("Demo users are only created with DEMO_MODE on.")

        self.stdout.write("Demo users (demo mode only; passwords are in .env):")
        for username, password_setting, role in DEMO_USERS:
            password = getattr(settings, password_setting, "")
            if not password:
                # A .env written before this role existed lacks its password.
                self.stdout.write(f"  {username}: skipped, {password_setting} unset")
                continue
            self._save_user(username, password, role)
            self.stdout.write(f"  {username} / {password}  ({role or 'superuser'})")

    def _save_user(self, username: str, password: str, role: str | None) -> None:
        user, _ = get_user_model().objects.get_or_create(username=username)
        user.is_superuser = role is None
        user.is_staff = role is None or role in STAFF_ROLES
        # Setting the same password again would log the user out everywhere.
        if not user.check_password(password):
            user.set_password(password)
        user.save()
        if role is not None:
            try:
                user.groups.set([Group.objects.get(name=role)])
            except Group.DoesNotExist:
                message = f"The {role} group is missing; migrate first."
                raise CommandError(message) from None
