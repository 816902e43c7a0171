"""The orders API, mounted under api/ by the project's URLs."""

from django.urls import path

from orders.apis import OrderDetailApi, OrderPlaceApi

urlpatterns = [
    path("orders/", OrderPlaceApi.as_view(), name="order-place"),
    path("orders/<int:order_id>/", OrderDetailApi.as_view(), name="order-detail"),
]
