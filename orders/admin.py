from django.contrib import admin

from orders.models import Order, OrderLine


class OrderLineInline(admin.TabularInline):
    model = OrderLine
    extra = 0


@admin.register(Order)
class OrderAdmin(admin.ModelAdmin):
    list_display = ["id", "customer", "total", "status", "coupon", "saga_id", "notified_at", "created"]
    list_filter = ["status", ("notified_at", admin.EmptyFieldListFilter), "created"]
    search_fields = ["id", "customer", "coupon", "saga_id", "idempotency_key"]
    date_hierarchy = "created"
    inlines = [OrderLineInline]


@admin.register(OrderLine)
class OrderLineAdmin(admin.ModelAdmin):
    list_display = ["order", "sku", "quantity", "unit_price"]
    list_filter = ["order__status"]
    search_fields = ["sku", "order__customer", "order__id"]
    list_select_related = ["order"]
    raw_id_fields = ["order"]
