"""Console login throttling with django-axes, and the deployment checks of sagaops' own secrets.

Axes counts failed logins per (normalised username, address) and refuses that pair for
SAGAOPS_LOGIN_FAILURE_WINDOW seconds after SAGAOPS_LOGIN_FAILURE_LIMIT failures; the answer is
the same whether or not the username exists. A wrong login is recorded and judged on the same
normalised name, so padding or case ("admin ", " Admin") does not start a fresh count.
"""

from __future__ import annotations

from django.core.checks import Tags, Warning, register
from django.http import HttpRequest, HttpResponse

from sagaops.conf import conf

REFUSAL = "Too many failed logins. Try again in {minutes} minutes."


def login_username(request: HttpRequest, credentials: dict | None) -> str:
    """The name a login attempt is counted under: as the login form reads it (stripped), casefolded."""
    source = credentials if credentials else getattr(request, "POST", {})
    username = source.get("username")
    return str(username or "").strip().casefold()


def lockout_response(request: HttpRequest, original_response, credentials: dict | None) -> HttpResponse:
    minutes = max(1, conf.SAGAOPS_LOGIN_FAILURE_WINDOW // 60)
    return HttpResponse(REFUSAL.format(minutes=minutes), status=429, content_type="text/plain")


@register(Tags.security, deploy=True)
def check_metrics_token(app_configs, **kwargs) -> list[Warning]:
    if conf.SAGAOPS_METRICS_TOKEN:
        return []
    return [
        Warning(
            "SAGAOPS_METRICS_TOKEN is not set: /metrics refuses every scrape while DJANGO_DEBUG is off.",
            hint="Set SAGAOPS_METRICS_TOKEN and give Prometheus the same bearer token.",
            id="sagaops.W001",
        )
    ]
