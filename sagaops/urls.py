from django.contrib import admin
from django.urls import include, path

from sagaops.observability.views import metrics_view

# Django's own 400 and 500 answers are JSON under /api/ (sagaops.api.errors).
handler400 = "sagaops.api.errors.bad_request"
handler500 = "sagaops.api.errors.server_error"

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/", include("sagaops.api.urls")),
    path("metrics", metrics_view, name="metrics"),
]
