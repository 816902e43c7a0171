"""The inventory service's API, mounted under api/ by the project's URLs."""

from django.urls import path

from inventory.apis import ProductPricesApi, ReservationReleaseApi, ReservationReserveApi

urlpatterns = [
    path("inventory/products/", ProductPricesApi.as_view(), name="inventory-prices"),
    path("inventory/reservations/", ReservationReserveApi.as_view(), name="inventory-reserve"),
    path("inventory/reservations/<name:reference>/release/", ReservationReleaseApi.as_view(), name="inventory-release"),
]
