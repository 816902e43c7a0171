"""This repository's URLs: the admin (with the console), the demo domain apps' APIs, sagaops."""

from django.contrib import admin
from django.urls import include, path

# Django's own 400 and 500 answers are JSON under /api/ (sagaops.api.errors).
handler400 = "sagaops.api.errors.bad_request"
handler500 = "sagaops.api.errors.server_error"

urlpatterns = [
    path("admin/", admin.site.urls),
    # The domain apps' APIs beside the engine's, before it: its last pattern is the API's JSON 404.
    path("api/", include("orders.urls")),
    path("api/", include("inventory.urls")),
    path("api/", include("payments.urls")),
    path("", include("sagaops.urls")),
]
