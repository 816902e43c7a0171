"""The two operator groups: "operator (view)" looks, "operator (repair)" also repairs."""

from __future__ import annotations

from django.apps import apps as global_apps

VIEW_GROUP = "operator (view)"
REPAIR_GROUP = "operator (repair)"

VIEW_PERMISSIONS = ("view_saga", "view_sagastep", "view_sagaevent", "view_bulkaction", "view_hold")
REPAIR_PERMISSIONS = (
    *VIEW_PERMISSIONS,
    "retry_saga",
    "compensate_saga",
    "retry_compensation_saga",
    "skip_step_saga",
    "resolve_saga",
    "manage_hold",
    "complete_step_saga",
    "edit_result_saga",
)


def ensure_operator_groups(*, apps=global_apps) -> dict[str, int]:
    """Create (or bring up to date) both groups; returns {group name: number of permissions}.

    Works with the migration's historical `apps` too: permissions are normally created after
    `migrate`, so they are created here first.
    """
    from django.contrib.auth.management import create_permissions

    app_config = apps.get_app_config("sagaops")
    if getattr(app_config, "models_module", None) is None:
        app_config.models_module = True  # a migration's app config stub: let create_permissions run
    create_permissions(app_config, verbosity=0, apps=apps)
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    counts = {}
    for name, codenames in ((VIEW_GROUP, VIEW_PERMISSIONS), (REPAIR_GROUP, REPAIR_PERMISSIONS)):
        group, _ = Group.objects.get_or_create(name=name)
        perms = Permission.objects.filter(content_type__app_label="sagaops", codename__in=codenames)
        group.permissions.set(perms)
        counts[name] = perms.count()
    return counts
