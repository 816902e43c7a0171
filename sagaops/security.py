"""Console login throttling: repeated failed logins for one username or from one address are
refused for a while, with the same answer whether or not the username exists."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.signals import user_logged_in, user_login_failed
from django.core.cache import cache
from django.dispatch import receiver
from django.http import HttpRequest, HttpResponse

LOGIN_PATHS = ("/admin/login/",)
REFUSAL = "Too many failed logins. Try again in {minutes} minutes."


def _keys(request: HttpRequest, username: str) -> list[str]:
    address = request.META.get("REMOTE_ADDR", "")
    return [f"sagaops:login-failures:user:{username.lower()}", f"sagaops:login-failures:addr:{address}"]


def _record_failure(request: HttpRequest, username: str) -> None:
    for key in _keys(request, username):
        cache.add(key, 0, timeout=settings.SAGAOPS_LOGIN_FAILURE_WINDOW)
        cache.incr(key)


def is_throttled(request: HttpRequest, username: str) -> bool:
    counts = cache.get_many(_keys(request, username))
    return any(count >= settings.SAGAOPS_LOGIN_FAILURE_LIMIT for count in counts.values())


@receiver(user_login_failed)
def login_failed(sender, credentials: dict, request: HttpRequest | None = None, **kwargs) -> None:
    if request is not None:
        _record_failure(request, credentials.get("username", ""))


@receiver(user_logged_in)
def logged_in(sender, request: HttpRequest | None, user, **kwargs) -> None:
    if request is not None:
        cache.delete(_keys(request, user.get_username())[0])


class LoginThrottleMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.method == "POST" and request.path in LOGIN_PATHS:
            if is_throttled(request, request.POST.get("username", "")):
                minutes = max(1, settings.SAGAOPS_LOGIN_FAILURE_WINDOW // 60)
                return HttpResponse(REFUSAL.format(minutes=minutes), status=429, content_type="text/plain")
        return self.get_response(request)
