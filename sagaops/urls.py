from django.contrib import admin
from django.urls import include, path

from sagaops.observability.views import metrics_view

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/", include("sagaops.api.urls")),
    path("metrics", metrics_view, name="metrics"),
]
