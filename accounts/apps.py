from django.apps import AppConfig
from django.db.models.signals import post_migrate


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = "Accounts and roles"

    def ready(self) -> None:
        post_migrate.connect(_sync_roles, sender=self)


def _sync_roles(**kwargs) -> None:
    from accounts.roles import sync_roles

    sync_roles(using=kwargs.get("using", "default"))
