from django.db import models


class Carrier(models.Model):
    name = models.CharField(max_length=50)
    code = models.SlugField(max_length=20, unique=True)
    tracking_url_template = models.CharField(max_length=200, blank=True)
    is_active = models.BooleanField(default=True)

    def __str__(self):
        return self.name


class Shipment(models.Model):
    order = models.OneToOneField(
        "orders.Order", on_delete=models.CASCADE, related_name="shipment"
    )
    carrier = models.ForeignKey(
        Carrier, on_delete=models.PROTECT, related_name="shipments"
    )
    tracking_number = models.CharField(max_length=100, blank=True)
    shipped_at = models.DateTimeField(null=True, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    status = models.CharField(
        max_length=20,
        choices=[
            ("pending", "Pending"),
            ("in_transit", "In transit"),
            ("delivered", "Delivered"),
            ("returned", "Returned"),
        ],
        default="pending",
    )

    class Meta:
        indexes = [
            models.Index(
                fields=["status", "shipped_at"], name="shipping_status_shipped_idx"
            ),
        ]


class DeliveryRate(models.Model):
    carrier = models.ForeignKey(Carrier, on_delete=models.CASCADE, related_name="rates")
    country = models.CharField(max_length=2)
    max_weight_kg = models.DecimalField(max_digits=6, decimal_places=2)
    price = models.DecimalField(max_digits=8, decimal_places=2)

    class Meta:
        unique_together = [("carrier", "country", "max_weight_kg")]
