from importlib import import_module

from django.apps import AppConfig
from django.utils.module_loading import autodiscover_modules

from sagaops.conf import conf


class SagaopsConfig(AppConfig):
    name = "sagaops"
    verbose_name = "Sagas"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from sagaops import security  # noqa: F401  (registers the deployment checks)

        # Each app that owns a business flow registers its saga definitions in `sagas.py`.
        autodiscover_modules("sagas")
        # Saga definitions that live outside an installed app (SAGAOPS_SAGA_MODULES).
        for module in conf.SAGAOPS_SAGA_MODULES:
            import_module(module)
