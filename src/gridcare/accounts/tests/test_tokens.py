"""API tokens: what must be current on every call is current on every call, even though the user
object is reused between requests of one process."""
from datetime import timedelta

from django.utils import timezone

from gridcare.accounts.models import ApiToken, OrgUnit, User
from gridcare.accounts.tokens import _users
from gridcare.testing import ApiClient




def test_revoked_token_and_inactive_user_are_refused_on_the_next_call(world):
    api = ApiClient(world.agent)
    assert api.get("/api/me").status_code == 200
    ApiToken.objects.filter(key_hash=ApiToken.hash(api.token)).update(revoked=True)
    assert api.get("/api/me").status_code == 401
    api2 = ApiClient(world.agent)
    assert api2.get("/api/me").status_code == 200
    User.objects.filter(username="agent01").update(is_active=False)
    assert api2.get("/api/me").status_code == 401


def test_role_change_and_unit_move_apply_at_once_without_signals(world):
    api = ApiClient(world.handler_a)
    me = api.get("/api/me").json()
    assert me["role"] == "handler"
    assert api.get("/api/customers/3100000101").status_code == 403  # another 供电所's customer
    user = User.objects.get(username="handler_a")
    assert user.pk in _users  # the cached user is reused …
    # … but a change made by another process (plain UPDATE, no signal here) shows on the next call
    User.objects.filter(pk=user.pk).update(role="supervisor")
    assert api.get("/api/me").json()["role"] == "supervisor"
    county = OrgUnit.objects.get(code="X01")
    User.objects.filter(pk=user.pk).update(unit=county)
    me = api.get("/api/me").json()
    assert me["scope"] == county.path
    assert api.get("/api/customers/3100000101").status_code == 200


def test_last_used_is_written_once_a_minute(world):
    api = ApiClient(world.agent)
    token = ApiToken.objects.get(key_hash=ApiToken.hash(api.token))
    assert token.last_used_at is None
    api.get("/api/me")
    first = ApiToken.objects.get(pk=token.pk).last_used_at
    assert first is not None
    api.get("/api/me")
    assert ApiToken.objects.get(pk=token.pk).last_used_at == first
    ApiToken.objects.filter(pk=token.pk).update(last_used_at=timezone.now() - timedelta(minutes=5))
    api.get("/api/me")
    assert ApiToken.objects.get(pk=token.pk).last_used_at > first - timedelta(minutes=1)
