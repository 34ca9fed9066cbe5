"""Create the demo's users and print how to log in. Demo mode only."""

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

DEMO_USERS = [
    # user name, password setting, staff and superuser
    ("admin", "DEMO_ADMIN_PASSWORD", True),
    ("agent", "DEMO_AGENT_PASSWORD", False),
]


class Command(BaseCommand):
    help = "Create or reset the demo users (only with DEMO_MODE on)."

    def handle(self, *args, **options) -> None:
        if not settings.DEMO_MODE:
            raise CommandError("Demo users are only created with DEMO_MODE on.")

        self.stdout.write("Demo users (demo mode only; passwords are in .env):")
        for username, password_setting, is_admin in DEMO_USERS:
            password = getattr(settings, password_setting)
            if not password:
                raise CommandError(f"Set {password_setting} in .env first.")
            self._save_user(username, password, is_admin)
            role = "supervisor, Django admin" if is_admin else "agent"
            self.stdout.write(f"  {username} / {password}  ({role})")

    def _save_user(self, username: str, password: str, is_admin: bool) -> None:
        user, _ = get_user_model().objects.get_or_create(username=username)
        user.is_staff = is_admin
        user.is_superuser = is_admin
        # Setting the same password again would log the user out everywhere.
        if not user.check_password(password):
            user.set_password(password)
        user.save()
