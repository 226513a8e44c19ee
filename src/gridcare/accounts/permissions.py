"""Permission = role capability AND unit subtree.

A user sees the records of their own unit's subtree. Staff of the 供电服务中心 work for the company the
centre belongs to, and a 营业厅 serves every customer of its county company, so for both the scope is
the parent unit's subtree. Administrators see everything.
"""
from django.core.exceptions import PermissionDenied

from .choices import Role, UnitKind
from .roles import role_can


def scope_path(user) -> str | None:
    """Path prefix of the unit subtree the user may see; "/" for everything, None for nothing."""
    if not user or not user.is_authenticated:
        return None
    if user.is_superuser or user.role == Role.ADMIN:
        return "/"
    unit = user.unit
    if unit is None:
        return None
    if unit.kind in (UnitKind.SERVICE_CENTER, UnitKind.HALL) and unit.parent_id:
        return unit.parent.path
    return unit.path


def can(user, capability: str) -> bool:
    if not user or not user.is_authenticated:
        return False
    return user.is_superuser or role_can(user.role, capability)


def in_scope(user, unit) -> bool:
    prefix = scope_path(user)
    return prefix is not None and unit is not None and unit.path.startswith(prefix)


def scoped(queryset, user, unit_field="unit"):
    """Filter `queryset` to the rows whose `unit_field` lies in the user's subtree."""
    prefix = scope_path(user)
    if prefix is None:
        return queryset.none()
    if prefix == "/":
        return queryset
    return queryset.filter(**{f"{unit_field}__path__startswith": prefix})


def require(user, capability: str, unit=None):
    """Raise PermissionDenied unless the user has the capability (and the unit is in scope)."""
    if not can(user, capability):
        raise PermissionDenied(f"您的角色无权执行此操作（{capability}）")
    if unit is not None and not in_scope(user, unit):
        raise PermissionDenied("该记录不属于您所在单位的管辖范围")
