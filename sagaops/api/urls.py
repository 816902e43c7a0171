"""The engine's REST API (mounted under api/ by sagaops/urls.py). Domain apps mount their own URLs
beside it, before it: its last pattern answers every other path with a JSON 404."""

from django.urls import path, re_path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from sagaops.api import converters  # noqa: F401  (registers <name:...>)
from sagaops.api.bulk import BulkCancelApi, BulkDetailApi, BulkListApi, BulkPauseApi, BulkResumeApi
from sagaops.api.callbacks import StepCompleteApi, StepFailApi
from sagaops.api.errors import not_found
from sagaops.api.health import HealthApi
from sagaops.api.holds import (
    HoldCancelReleaseApi,
    HoldDetailApi,
    HoldListApi,
    HoldPauseReleaseApi,
    HoldReleaseApi,
)
from sagaops.api.operators import (
    BranchRetryApi,
    CompensationDoneApi,
    CompensationPreviewApi,
    SagaCompensateApi,
    SagaResolveApi,
    SagaRetryApi,
    SagaRetryCompensationApi,
    StepCompleteByHandApi,
    StepResultEditApi,
    StepSkipApi,
)
from sagaops.api.reports import FailureReportCreateApi
from sagaops.api.saga_types import SagaTypeListApi
from sagaops.api.sagas import SagaDetailApi, SagaEventListApi, SagaListApi

app_name = "api"


saga = "sagas/<uuid:saga_id>/"
step = saga + "steps/<name:step>/"

urlpatterns = [
    path("sagas/", SagaListApi.as_view(), name="saga-list"),
    path(saga, SagaDetailApi.as_view(), name="saga-detail"),
    path(saga + "events/", SagaEventListApi.as_view(), name="saga-events"),
    path(saga + "retry/", SagaRetryApi.as_view(), name="saga-retry"),
    path(saga + "compensate/", SagaCompensateApi.as_view(), name="saga-compensate"),
    path(saga + "retry-compensation/", SagaRetryCompensationApi.as_view(), name="saga-retry-compensation"),
    path(saga + "resolve/", SagaResolveApi.as_view(), name="saga-resolve"),
    path(saga + "compensation-preview/", CompensationPreviewApi.as_view(), name="saga-compensation-preview"),
    path(step + "complete/", StepCompleteApi.as_view(), name="step-complete"),
    path(step + "fail/", StepFailApi.as_view(), name="step-fail"),
    path(step + "skip/", StepSkipApi.as_view(), name="step-skip"),
    path(step + "retry-branch/", BranchRetryApi.as_view(), name="step-retry-branch"),
    path(step + "compensation-done/", CompensationDoneApi.as_view(), name="step-compensation-done"),
    path(step + "complete-by-hand/", StepCompleteByHandApi.as_view(), name="step-complete-by-hand"),
    path(step + "result/", StepResultEditApi.as_view(), name="step-result-edit"),
    path("reports/", FailureReportCreateApi.as_view(), name="report-create"),
    path("saga-types/", SagaTypeListApi.as_view(), name="saga-type-list"),
    path("holds/", HoldListApi.as_view(), name="hold-list"),
    path("holds/<int:hold_id>/", HoldDetailApi.as_view(), name="hold-detail"),
    path("holds/<int:hold_id>/release/", HoldReleaseApi.as_view(), name="hold-release"),
    path("holds/<int:hold_id>/pause-release/", HoldPauseReleaseApi.as_view(), name="hold-pause-release"),
    path("holds/<int:hold_id>/cancel-release/", HoldCancelReleaseApi.as_view(), name="hold-cancel-release"),
    path("bulk-actions/", BulkListApi.as_view(), name="bulk-list"),
    path("bulk-actions/<uuid:bulk_id>/", BulkDetailApi.as_view(), name="bulk-detail"),
    path("bulk-actions/<uuid:bulk_id>/pause/", BulkPauseApi.as_view(), name="bulk-pause"),
    path("bulk-actions/<uuid:bulk_id>/resume/", BulkResumeApi.as_view(), name="bulk-resume"),
    path("bulk-actions/<uuid:bulk_id>/cancel/", BulkCancelApi.as_view(), name="bulk-cancel"),
    path("health/", HealthApi.as_view(), name="health"),
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    # The split view serves its script as a file: the docs page needs no inline script (CSP).
    path("docs/", SpectacularSwaggerSplitView.as_view(url_name="api:schema"), name="docs"),
    re_path(r"", not_found),
]
