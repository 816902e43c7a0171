"""The REST API under /api/ (mounted by sagaops/urls.py)."""

from django.urls import path, re_path, register_converter
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from inventory.apis import ProductPricesApi, ReservationReleaseApi, ReservationReserveApi
from orders.apis import OrderDetailApi, OrderPlaceApi
from payments.apis import PaymentChargeApi, PaymentRefundApi
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


class NameConverter:
    """A path segment without NUL (PostgreSQL cannot store it): step names and references."""

    regex = "[^/\x00]+"

    def to_python(self, value: str) -> str:
        return value

    def to_url(self, value: str) -> str:
        return value


register_converter(NameConverter, "name")

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
    path("orders/", OrderPlaceApi.as_view(), name="order-place"),
    path("orders/<int:order_id>/", OrderDetailApi.as_view(), name="order-detail"),
    path("inventory/products/", ProductPricesApi.as_view(), name="inventory-prices"),
    path("inventory/reservations/", ReservationReserveApi.as_view(), name="inventory-reserve"),
    path("inventory/reservations/<name:reference>/release/", ReservationReleaseApi.as_view(), name="inventory-release"),
    path("payments/charges/", PaymentChargeApi.as_view(), name="payments-charge"),
    path("payments/charges/<name:reference>/refund/", PaymentRefundApi.as_view(), name="payments-refund"),
    path("health/", HealthApi.as_view(), name="health"),
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    # The split view serves its script as a file: the docs page needs no inline script (CSP).
    path("docs/", SpectacularSwaggerSplitView.as_view(url_name="api:schema"), name="docs"),
    re_path(r"", not_found),
]
