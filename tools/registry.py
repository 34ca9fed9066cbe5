"""The tools this installation offers, found by slug."""

from importlib import import_module

from tools.base import BaseTool

_TOOLS: dict[str, BaseTool] = {}

# Modules that define tools; importing one registers its tools.
TOOL_MODULES = ["tools.tag_manager", "tools.apply_macro", "tools.macro_search"]


def register(tool_class: type[BaseTool]) -> type[BaseTool]:
    tool = tool_class()
    if tool.slug in _TOOLS:
        raise ValueError(f"Two tools use the slug {tool.slug!r}.")
    _TOOLS[tool.slug] = tool
    return tool_class


def autodiscover() -> None:
    for module in TOOL_MODULES:
        import_module(module)


def get_tool(slug: str) -> BaseTool:
    return _TOOLS[slug]


def all_tools() -> list[BaseTool]:
    return list(_TOOLS.values())


def sync_tool_rows(using: str = "default") -> None:
    """Give every registered tool a settings row, keeping existing settings."""
    from django.db import router

    from tools.models import Tool

    if not router.allow_migrate_model(using, Tool):
        return
    for tool in _TOOLS.values():
        Tool.objects.using(using).update_or_create(
            slug=tool.slug,
            defaults={"name": tool.name, "category": tool.category},
            create_defaults={
                "name": tool.name,
                "category": tool.category,
                "requires_admin": tool.requires_admin,
            },
        )
