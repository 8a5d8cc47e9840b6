from django.contrib import admin

from .models import Order, OrderItem, Promotion, Refund


class OrderItemInline(admin.TabularInline):
    model = OrderItem
    extra = 0


@admin.register(Order)
class OrderAdmin(admin.ModelAdmin):
    list_display = ["__str__", "customer", "status", "created_at"]
    list_filter = ["status"]
    inlines = [OrderItemInline]


admin.site.register(Promotion)
admin.site.register(Refund)
