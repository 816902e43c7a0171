from django.apps import AppConfig
from django.utils.module_loading import autodiscover_modules


class ChoreographyConfig(AppConfig):
    name = "sagaops.choreography"
    label = "choreography"
    verbose_name = "Choreography and supervisor"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # The tracker's and the supervisor's own handlers, then each app's `events.py`
        # (its handlers, its commands and its choreographed flows).
        from sagaops.choreography.services import supervisor, tracker  # noqa: F401

        autodiscover_modules("events")
