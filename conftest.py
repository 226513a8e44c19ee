import pytest


@pytest.fixture(autouse=True)
def _fast_passwords(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def world(db):
    """A small utility: province → city → county → two stations, a hall, a service centre; one user per role;
    a substation with two feeders, three 台区 and a handful of customers."""
    from gridcare.testing import build_world

    return build_world()


@pytest.fixture
def api_client(world):
    from gridcare.testing import ApiClient

    return ApiClient
