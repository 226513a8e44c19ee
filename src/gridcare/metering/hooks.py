"""The home-page card of metering (core.views.HOME_CARDS): read exceptions waiting for the reader or the
billing clerk in the user's scope, and how many of them hold a bill (labels in the reader's language)."""
from django.utils.translation import gettext


def home_cards(user):
    from gridcare.accounts.permissions import can, scoped

    from .models import ExceptionStatus, ReadException

    if not can(user, "metering.read"):
        return []
    open_ = scoped(ReadException.objects.filter(status=ExceptionStatus.OPEN), user)
    return [{"label": gettext("待处理抄表异常"), "value": open_.count(), "css": ""},
            {"label": gettext("其中漏抄"), "value": open_.filter(rule="missed_read").count(), "css": ""}]


def register():
    from gridcare.core.views import HOME_CARDS

    if home_cards not in HOME_CARDS:
        HOME_CARDS.append(home_cards)
