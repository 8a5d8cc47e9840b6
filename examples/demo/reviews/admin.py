from django.contrib import admin

from .models import Review


@admin.register(Review)
class ReviewAdmin(admin.ModelAdmin):
    list_display = ["product", "author", "stars", "is_approved"]
    list_filter = ["is_approved", "stars"]
