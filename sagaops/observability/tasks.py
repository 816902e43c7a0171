"""Celery entry points for alerts: raise a saga's alert, deliver one alert (with retries), the periodic check."""

from celery import shared_task

from sagaops import dispatch
from sagaops.observability import context
from sagaops.observability.alerts.services import alert_deliver, alerts_check, alerts_for_saga


@shared_task(name=dispatch.ALERT_SAGA)
def alert_saga(saga_id: str, kind: str) -> int:
    with context.bound(saga_id=saga_id):
        return len(alerts_for_saga(saga_id=saga_id, kind=kind))


# Our own attempt count (on the AlertSent row) decides when to give up, so Celery's is unbounded.
@shared_task(bind=True, name=dispatch.DELIVER_ALERT, max_retries=None)
def deliver_alert(self, alert_id: int) -> None:
    retry_in = alert_deliver(alert_id=alert_id)
    if retry_in is not None:
        raise self.retry(countdown=retry_in)


@shared_task(name=dispatch.CHECK_ALERTS)
def check_alerts() -> dict[str, int]:
    return alerts_check()
