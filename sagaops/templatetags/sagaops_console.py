"""Template helpers for the console: the navigation bar, the landing panel, badges and durations."""

from __future__ import annotations

import json
from datetime import datetime, timedelta

from django import template
from django.utils import timezone
from django.utils.dateformat import format as date_format
from django.utils.html import format_html

from sagaops.console import health, selectors
from sagaops.models import SavedView

register = template.Library()

# Rows needing attention on the admin index; past that it says "N of M shown, see all".
LANDING_ROWS = 10


def _may_view(user) -> bool:
    return bool(user and user.is_active and user.is_staff and user.has_perm("sagaops.view_saga"))


@register.inclusion_tag("sagaops/console/_nav.html", takes_context=True)
def console_nav(context):
    request = context.get("request")
    user = getattr(request, "user", None)
    if not _may_view(user):
        return {"show": False}
    return {"show": True, "stuck_count": selectors.stuck_count(), "path": request.path}


@register.inclusion_tag("sagaops/console/_landing.html", takes_context=True)
def console_landing(context):
    request = context.get("request")
    if not _may_view(getattr(request, "user", None)):
        return {"show": False}
    sections = selectors.stuck_sections(limit=LANDING_ROWS)
    room = LANDING_ROWS  # across the sections, failed compensations first
    for section in sections:
        section.rows = section.rows[:room]
        room -= len(section.rows)
    shown = sum(len(s.rows) for s in sections)
    return {"show": True, "sections": sections, "total": sum(s.total for s in sections), "shown": shown}


@register.inclusion_tag("sagaops/console/_health.html", takes_context=True)
def system_health(context, detailed: bool = False):
    request = context.get("request")
    if not _may_view(getattr(request, "user", None)):
        return {"show": False}
    checks = health.system_health()
    bad = [c for c in checks if not c.ok]
    return {"show": True, "checks": checks, "bad": bad, "all_ok": not bad, "detailed": detailed}


# Query parameters that are not part of a view (paging, the action form, the popup flags).
NOT_A_VIEW = {"p", "all", "_popup", "_to_field", "action", "select_across", "index"}


@register.inclusion_tag("sagaops/console/_saved_views.html", takes_context=True)
def saved_views(context):
    request = context.get("request")
    user = getattr(request, "user", None)
    if not _may_view(user):
        return {"show": False}
    params = request.GET.copy()
    for name in NOT_A_VIEW:
        params.pop(name, None)
    views = SavedView.objects.filter(user=user).order_by("name")
    return {"show": True, "views": list(views), "query": params.urlencode(), "csrf_token": context.get("csrf_token")}


@register.filter
def active_filters(changelist) -> list[tuple[str, str]]:
    """The filters in force on a changelist, as (parameter, value) pairs, for the empty state."""
    return [(k, ", ".join(v) if isinstance(v, list) else v) for k, v in changelist.get_filters_params().items()]


@register.simple_tag
def badge(status: str):
    return format_html('<span class="sagaops-badge status-{}">{}</span>', status, status.replace("_", " "))


@register.filter
def seconds(value) -> str:
    """A duration in seconds, readably: 850 ms, 12.3 s, 4 min 10 s."""
    if value is None:
        return "–"
    value = float(value)
    if value < 1:
        return f"{value * 1000:.0f} ms"
    if value < 60:
        return f"{value:.1f} s"
    minutes, secs = divmod(int(value), 60)
    if minutes < 60:
        return f"{minutes} min {secs} s"
    return f"{minutes // 60} h {minutes % 60} min"


@register.filter
def ago(value: datetime | None) -> str:
    """How long ago, coarse: 5 s, 3 min, 2 h 10 min, 4 d."""
    if value is None:
        return ""
    delta = timezone.now() - value
    if delta < timedelta(0):
        return "in " + seconds(-delta.total_seconds())
    total = int(delta.total_seconds())
    if total < 60:
        return f"{total} s ago"
    if total < 3600:
        return f"{total // 60} min ago"
    if total < 86400:
        return f"{total // 3600} h {total % 3600 // 60} min ago"
    return f"{total // 86400} d ago"


@register.filter
def fulldate(value: datetime | None) -> str:
    """A full date and time with its time zone, so nobody has to guess which clock the console uses."""
    if value is None:
        return ""
    return date_format(timezone.localtime(value), "Y-m-d H:i:s T")


@register.filter
def pretty_json(value) -> str:
    if value in (None, "", {}, []):
        return ""
    return json.dumps(value, indent=2, sort_keys=True, default=str)


@register.filter
def json_value(value) -> str:
    """Any JSON value as JSON: null stays `null` (pretty_json would show nothing for it)."""
    return json.dumps(value, indent=2, sort_keys=True, default=str)


@register.filter
def percent(value) -> str:
    return "–" if value is None else f"{value:.1f} %"


@register.filter
def short_type(value: str) -> str:
    return value.rsplit(".", 1)[-1] if value else ""


@register.filter
def get(mapping, key):
    return mapping.get(key) if mapping else None
