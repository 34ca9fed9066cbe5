"""Who may use which tool."""

from django.contrib.auth.models import AbstractBaseUser

from tools.base import BaseTool


def can_use_tool(user: AbstractBaseUser, tool: BaseTool) -> bool:
    row = tool.get_row()
    if not row.enabled:
        return False
    return user.is_staff or not row.requires_admin
