"""sagaops's URLs for a project to include (`path("ops/", include("sagaops.urls"))`): the REST API
under api/ and the Prometheus metrics. The console is part of the project's admin site."""

from django.urls import include, path

from sagaops.observability.views import metrics_view

urlpatterns = [
    path("api/", include("sagaops.api.urls")),
    path("metrics", metrics_view, name="metrics"),
]
