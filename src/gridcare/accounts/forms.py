from django import forms
from django.contrib.auth.forms import AuthenticationForm

from . import throttle


class ThrottledLoginForm(AuthenticationForm):
    """The standard login form, refusing attempts while a username or address is throttled."""

    error_messages = {
        **AuthenticationForm.error_messages,
        "invalid_login": "用户名或密码错误。",
        "throttled": throttle.LOCKED_MESSAGE,
    }

    def clean(self):
        username = (self.data.get("username") or "").strip()
        address = throttle.client_address(self.request) if self.request else "unknown"
        if throttle.is_locked(username, address):
            raise forms.ValidationError(self.error_messages["throttled"], code="throttled")
        try:
            cleaned = super().clean()
        except forms.ValidationError:
            throttle.record_failure(username, address)
            raise
        throttle.clear(username)
        return cleaned
