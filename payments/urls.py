"""The payments service's API, mounted under api/ by the project's URLs."""

from django.urls import path

from payments.apis import PaymentChargeApi, PaymentRefundApi

urlpatterns = [
    path("payments/charges/", PaymentChargeApi.as_view(), name="payments-charge"),
    path("payments/charges/<name:reference>/refund/", PaymentRefundApi.as_view(), name="payments-refund"),
]
