"""The three roles are Django groups; this is what each may do.

A migration creates the groups from this table, so changing a role is a new migration.
"""

SECURITY = "security"
MANAGER = "manager"
DPO = "dpo"
ROLES = [SECURITY, MANAGER, DPO]

_SECURITY_PERMISSIONS = [
    "incidents.add_incident",
    "incidents.view_incident",
    "incidents.change_incident",
    "incidents.assess_incident",
    "incidents.view_controller",
]
_MANAGER_PERMISSIONS = [
    *_SECURITY_PERMISSIONS,
    "incidents.notify_incident",
    "incidents.dismiss_incident",
    "incidents.close_incident",
    "incidents.add_controller",
    "incidents.change_controller",
    "incidents.download_register",
    "subjects.send_communication",
]
_DPO_PERMISSIONS = [
    *_MANAGER_PERMISSIONS,
    "incidents.view_register",
    # The DPO keeps the assessment form's lists and the escalation policy in the admin.
    "incidents.add_datacategory",
    "incidents.change_datacategory",
    "incidents.view_datacategory",
    "incidents.add_subjectcategory",
    "incidents.change_subjectcategory",
    "incidents.view_subjectcategory",
    # ... Conitro's processing activities and the regime table of deadlines.
    "incidents.add_processingactivity",
    "incidents.change_processingactivity",
    "incidents.view_processingactivity",
    "incidents.change_deadlinerule",
    "incidents.view_deadlinerule",
    "incidents.view_obligation",
    # ... and the other reporting regimes (NIS2 to the CCB) with their reports.
    "incidents.add_regime",
    "incidents.change_regime",
    "incidents.view_regime",
    "incidents.add_regimerule",
    "incidents.change_regimerule",
    "incidents.view_regimerule",
]

ROLE_PERMISSIONS = {
    SECURITY: _SECURITY_PERMISSIONS,
    MANAGER: _MANAGER_PERMISSIONS,
    DPO: _DPO_PERMISSIONS,
}


def grant_roles(group_model, permission_model):
    """Create the groups and give each its permissions (used by migration 0002 and tests), in
    one change a group: the trail records each group's permissions once, not one by one."""
    for role, names in ROLE_PERMISSIONS.items():
        group, _ = group_model.objects.get_or_create(name=role)
        wanted = {tuple(name.split(".")) for name in names}  # (app label, codename)
        candidates = permission_model.objects.filter(codename__in=[c for _app, c in wanted])
        # A permission of a later app is not made yet: its own migration grants it.
        group.permissions.add(
            *(
                permission
                for permission in candidates.select_related("content_type")
                if (permission.content_type.app_label, permission.codename) in wanted
            )
        )


def grant_in_migration(apps, app_label, codenames, roles):
    """A later migration's grant: these permissions of this app to these roles (the
    permissions are made first: Django makes them only after all migrations)."""
    from django.contrib.auth.management import create_permissions

    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None
    permissions = apps.get_model("auth", "Permission").objects.filter(
        content_type__app_label=app_label, codename__in=codenames
    )
    for group in apps.get_model("auth", "Group").objects.filter(name__in=roles):
        group.permissions.add(*permissions)
