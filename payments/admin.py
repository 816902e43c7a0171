from django.contrib import admin

from payments.models import Account, Coupon, Payment


@admin.register(Account)
class AccountAdmin(admin.ModelAdmin):
    list_display = ["customer", "balance"]
    search_fields = ["customer"]
    ordering = ["customer"]


@admin.register(Coupon)
class CouponAdmin(admin.ModelAdmin):
    list_display = ["code", "discount", "used_by_reference"]
    list_filter = [("used_by_reference", admin.EmptyFieldListFilter)]
    search_fields = ["code", "used_by_reference"]


@admin.register(Payment)
class PaymentAdmin(admin.ModelAdmin):
    list_display = ["reference", "customer", "amount", "discount", "coupon", "status", "created"]
    list_filter = ["status", "created"]
    search_fields = ["reference", "customer", "coupon__code"]
    list_select_related = ["coupon"]
    raw_id_fields = ["coupon"]
    date_hierarchy = "created"
