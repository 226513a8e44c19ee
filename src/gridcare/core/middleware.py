from .audit import set_actor


class AuditActorMiddleware:
    """Binds the signed-in user to the audit context for the request."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        set_actor(user if user is not None and user.is_authenticated else None, "web")
        try:
            return self.get_response(request)
        finally:
            set_actor(None, "system")
