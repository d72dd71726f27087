"""Create the role groups and give them their permissions (accounts.roles)."""

from __future__ import annotations

from dataclasses import dataclass, field

from django.apps import apps as global_apps
from django.contrib.auth.management import create_permissions
from django.contrib.auth.models import Group, Permission
from django.contrib.contenttypes.management import create_contenttypes
from django.contrib.contenttypes.models import ContentType
from django.db import transaction

from accounts.models import RoleGrant
from accounts.roles import CUSTOM_PERMISSIONS, ROLES


@dataclass
class SyncResult:
    created_groups: list[str] = field(default_factory=list)
    granted: dict[str, list[str]] = field(default_factory=dict)


def roles_sync(*, reset: bool = False, using: str = "default") -> SyncResult:
    """Make sure every role group exists and holds its rule's permissions.

    Without `reset`, give each group only the matching permissions it was never given
    (new models, new roles); with it, make each group exactly its rule.
    """
    # Permissions of every app first: post_migrate reaches apps one by one, and a model
    # of an app listed after this one would otherwise be missed until the next migrate.
    for app_config in global_apps.get_app_configs():
        create_contenttypes(app_config, verbosity=0, using=using)
        create_permissions(app_config, verbosity=0, using=using)
    _create_custom_permissions(using)
    result = SyncResult()
    labelled = {
        f"{app_label}.{codename}": pk
        for pk, app_label, codename in Permission.objects.using(using).values_list(
            "pk", "content_type__app_label", "codename"
        )
    }
    with transaction.atomic(using=using):
        for role in ROLES:
            group, created = Group.objects.using(using).get_or_create(name=role.name)
            if created:
                result.created_groups.append(role.name)
            wanted = {pk for label, pk in labelled.items() if role.matches(label)}
            given_before = set(
                RoleGrant.objects.using(using)
                .filter(group=group)
                .values_list("permission_id", flat=True)
            )
            if reset:
                group.permissions.set(wanted)
                new = wanted - given_before
            else:
                new = wanted - given_before
                group.permissions.add(*new)
            RoleGrant.objects.using(using).bulk_create(
                [RoleGrant(group=group, permission_id=pk) for pk in new], ignore_conflicts=True
            )
            if new:
                names = sorted(label for label, pk in labelled.items() if pk in new)
                result.granted[role.name] = names
    return result


def _create_custom_permissions(using: str) -> None:
    for app_label, model_name, codename, name in CUSTOM_PERMISSIONS:
        try:
            model = global_apps.get_model(app_label, model_name)
        except LookupError:
            continue
        content_type = ContentType.objects.db_manager(using).get_for_model(model)
        Permission.objects.using(using).get_or_create(
            content_type=content_type, codename=codename, defaults={"name": name}
        )


def sync_after_migrate(sender, using: str = "default", plan=None, **kwargs) -> None:
    """post_migrate receiver: keep the roles up to date with the models."""
    roles_sync(using=using)
