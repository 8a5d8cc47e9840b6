from django.contrib import admin

from .models import Category, Product, ProductVariant, Tag


class ProductVariantInline(admin.TabularInline):
    model = ProductVariant
    extra = 0


@admin.register(Product)
class ProductAdmin(admin.ModelAdmin):
    list_display = ["name", "category", "price", "is_active"]
    list_filter = ["is_active", "category"]
    prepopulated_fields = {"slug": ["name"]}
    inlines = [ProductVariantInline]


admin.site.register(Category)
admin.site.register(Tag)
