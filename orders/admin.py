from django.contrib import admin
from django.urls import reverse
from django.utils.html import format_html

from orders.models import Order, OrderLine

# What the checkout saga writes (and compensates): editing it by hand would make the order and its
# saga disagree, so the admin shows these fields read-only. Repairs go through the saga console.
SAGA_OWNED = ["customer", "total", "status", "coupon", "saga_id", "idempotency_key", "notified_at"]


class OrderLineInline(admin.TabularInline):
    model = OrderLine
    extra = 0

    def has_change_permission(self, request, obj=None):
        return obj is None or obj.saga_id is None

    def has_add_permission(self, request, obj=None):
        return obj is None or obj.saga_id is None

    def has_delete_permission(self, request, obj=None):
        return obj is None or obj.saga_id is None


@admin.register(Order)
class OrderAdmin(admin.ModelAdmin):
    list_display = ["id", "customer", "total", "status", "coupon", "saga", "notified_at", "created"]
    list_filter = ["status", ("notified_at", admin.EmptyFieldListFilter), "created"]
    search_fields = ["id", "customer", "coupon", "saga_id", "idempotency_key"]
    date_hierarchy = "created"
    inlines = [OrderLineInline]

    def get_readonly_fields(self, request, obj=None):
        return [*SAGA_OWNED, "saga"] if obj is not None and obj.saga_id else ["saga"]

    def has_delete_permission(self, request, obj=None):
        # An order with a saga is deleted by nobody: the saga (and its compensations) refer to it.
        if obj is not None and obj.saga_id:
            return False
        return super().has_delete_permission(request, obj)

    def get_actions(self, request):
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)  # a bulk delete would not ask per order whether it has a saga
        return actions

    @admin.display(description="saga")
    def saga(self, obj: Order) -> str:
        if not obj.saga_id:
            return "–"
        url = reverse("admin:sagaops_saga_change", args=[obj.saga_id])
        return format_html('<a href="{}"><code>{}</code></a>', url, str(obj.saga_id)[:8])


@admin.register(OrderLine)
class OrderLineAdmin(admin.ModelAdmin):
    list_display = ["order", "sku", "quantity", "unit_price"]
    list_filter = ["order__status"]
    search_fields = ["sku", "order__customer", "order__id"]
    list_select_related = ["order"]
    raw_id_fields = ["order"]
