"""The WSGI application (`gridcare serve` runs it in Granian or gunicorn workers).

Once Django is set up, the URL configuration is loaded (every view, API router and schema with it) and
everything that exists at that point is moved out of the cyclic garbage collector's reach (`gc.freeze()`).
Those objects live as long as the worker, but each full collection would otherwise walk all of them again:
about 220,000 objects, a pause of about 90 ms measured in a Granian worker, which every request in flight
on that worker waits out (the hall's ticket-issue p99 at 50/s came from such pauses, docs/hall.md).
"""
import gc
import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "gridcare.settings")
application = get_wsgi_application()


def _load_and_freeze():
    from django.urls import get_resolver

    get_resolver().url_patterns  # noqa: B018 - imports the URL modules, views and the API's routers
    gc.collect()
    gc.freeze()


_load_and_freeze()
