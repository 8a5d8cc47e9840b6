from django.contrib import admin

from .models import Carrier, DeliveryRate, Shipment

admin.site.register(Carrier)
admin.site.register(DeliveryRate)
admin.site.register(Shipment)
