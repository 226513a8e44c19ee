import pytest


@pytest.fixture(autouse=True)
def _fast_passwords(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _default_language():
    """Each test starts and ends in the default language (Chinese). A request with the English cookie
    activates English for the thread and LocaleMiddleware never turns it off, while texts built outside a
    request (the intake lookup's context, the home cards) follow the active language."""
    from django.utils import translation

    translation.deactivate()
    yield
    translation.deactivate()


@pytest.fixture
def world(db):
    """A small utility: province → city → county → two stations, a hall, a service centre; one user per role;
    a substation with two feeders, three 台区 and a handful of customers."""
    from gridcare.testing import build_world

    return build_world()


@pytest.fixture(params=["as configured", "GRIDCARE_PG_PIPELINE=0", "GRIDCARE_PG_PREPARE=0"])
def pg_mode(request, settings):
    """Runs a test as configured and, on PostgreSQL, with each of core.pgbackend's and core.fixed_sql's
    switches off (held rows, BEGIN with the first statement and reserved ids; prepared statements), so the
    intake's paths for both settings are checked against the same expectations."""
    from django.db import connection

    if request.param != "as configured":
        if connection.vendor != "postgresql":
            pytest.skip("a PostgreSQL setting")
        setattr(settings, request.param.split("=")[0], False)
    return request.param


@pytest.fixture
def api_client(world):
    from gridcare.testing import ApiClient

    return ApiClient
