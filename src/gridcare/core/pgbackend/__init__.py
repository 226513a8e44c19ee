"""GridCare's PostgreSQL backend: Django's own, plus the deferred writes of core.fixed_sql (see base.py)."""
