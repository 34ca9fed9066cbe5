from django.apps import AppConfig
from django.db.models.signals import post_migrate


class ToolsConfig(AppConfig):
    name = "tools"
    verbose_name = "Tools"

    def ready(self) -> None:
        from tools import registry

        registry.autodiscover()
        post_migrate.connect(_sync_tool_rows, sender=self)


def _sync_tool_rows(**kwargs) -> None:
    from tools import registry

    registry.sync_tool_rows(using=kwargs.get("using", "default"))
