from django.contrib import admin

from inventory.models import Product, Reservation, ReservationLine


@admin.register(Product)
class ProductAdmin(admin.ModelAdmin):
    list_display = ["sku", "name", "price", "stock"]
    search_fields = ["sku", "name"]
    ordering = ["sku"]


class ReservationLineInline(admin.TabularInline):
    model = ReservationLine
    extra = 0
    raw_id_fields = ["product"]


@admin.register(Reservation)
class ReservationAdmin(admin.ModelAdmin):
    list_display = ["reference", "status", "created", "updated"]
    list_filter = ["status", "created"]
    search_fields = ["reference"]
    date_hierarchy = "created"
    inlines = [ReservationLineInline]


@admin.register(ReservationLine)
class ReservationLineAdmin(admin.ModelAdmin):
    list_display = ["reservation", "product", "quantity"]
    list_filter = ["reservation__status"]
    search_fields = ["reservation__reference", "product__sku"]
    list_select_related = ["reservation", "product"]
    raw_id_fields = ["reservation", "product"]
