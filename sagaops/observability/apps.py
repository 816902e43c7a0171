from django.apps import AppConfig


class ObservabilityConfig(AppConfig):
    name = "sagaops.observability"
    label = "observability"
    verbose_name = "Alerts"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from sagaops.observability import celery_hooks, tracing

        celery_hooks.connect()
        tracing.configure()  # an SDK and exporter only when SAGAOPS_TRACE_EXPORTER names one
