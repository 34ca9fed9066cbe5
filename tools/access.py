"""Who may use which tool."""

from django.contrib.auth.models import AbstractBaseUser

from accounts.roles import can_run_tools, can_use_admin_tools
from tools.base import BaseTool


def can_use_tool(user: AbstractBaseUser, tool: BaseTool) -> bool:
    row = tool.get_row()
    if not row.enabled or not can_run_tools(user):
        return False
    return not row.requires_admin or can_use_admin_tools(user)


def is_turned_off(tool: BaseTool) -> bool:
    return not tool.get_row().enabled


def turned_off_message(tool: BaseTool) -> str:
    """What the tool's page and the command line say about a disabled tool."""
    return (
        f"The {tool.name} is turned off. A supervisor can turn it back on under "
        "Tools in the admin."
    )
