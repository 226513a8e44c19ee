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


class ChineseByDefaultMiddleware:
    """Pages are in Simplified Chinese unless the user picked another language (language cookie):
    the browser's Accept-Language is not consulted, so an English-language browser on a utility's
    intranet still gets the Chinese UI its colleagues see."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request.META.pop("HTTP_ACCEPT_LANGUAGE", None)
        return self.get_response(request)
