"""The three roles as groups, with the permissions each one holds.

The lists are written out here rather than imported, so that this migration
keeps meaning what it meant when it was written.
"""

from django.contrib.auth.management import create_permissions
from django.db import migrations

ROLES = {
    "Agent": ["jobs.add_job"],
    "Supervisor": [
        "jobs.add_job",
        "jobs.view_all_jobs",
        "jobs.manage_all_jobs",
        "jobs.view_job",
        "jobs.view_ticketresult",
        "tools.use_admin_tools",
        "tools.view_tool",
        "tools.change_tool",
    ],
    "Operator": ["jobs.view_all_jobs", "jobs.view_queue_dashboards"],
}


def create_roles(apps, schema_editor):
    alias = schema_editor.connection.alias
    # Django creates permissions only once every migration has run; the
    # groups need them now, on a fresh database too.
    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0, using=alias)
        app_config.models_module = None

    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for role, permissions in ROLES.items():
        group, _ = Group.objects.using(alias).get_or_create(name=role)
        for permission in permissions:
            app_label, codename = permission.split(".")
            group.permissions.add(
                Permission.objects.using(alias).get(
                    content_type__app_label=app_label, codename=codename
                )
            )


def remove_roles(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    alias = schema_editor.connection.alias
    Group.objects.using(alias).filter(name__in=list(ROLES)).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("jobs", "0004_permissions"),
        ("tools", "0002_permissions"),
    ]

    operations = [migrations.RunPython(create_roles, remove_roles)]
