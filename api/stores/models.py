from django.conf import settings
from django.db import models
from phonenumber_field.modelfields import PhoneNumberField

from core.models import TimeStampedModel


class Store(TimeStampedModel):
    """A shop on the marketplace, run by a business-owner account (an owner may have several)."""

    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="stores"
    )
    name = models.CharField(max_length=120)
    slug = models.SlugField(max_length=140, unique=True)
    description = models.TextField(blank=True)
    address = models.CharField(max_length=255, blank=True)
    latitude = models.DecimalField(max_digits=9, decimal_places=6, null=True, blank=True)
    longitude = models.DecimalField(max_digits=9, decimal_places=6, null=True, blank=True)
    contact_phone = PhoneNumberField(blank=True)
    is_active = models.BooleanField(default=True)
    deleted_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["name", "id"]
        indexes = [
            # The bounding-box prefilter of ?near= reads these.
            models.Index(fields=["latitude", "longitude"], name="store_coordinates"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(latitude__isnull=True)
                | models.Q(latitude__gte=-90, latitude__lte=90),
                name="store_latitude_range",
            ),
            models.CheckConstraint(
                condition=models.Q(longitude__isnull=True)
                | models.Q(longitude__gte=-180, longitude__lte=180),
                name="store_longitude_range",
            ),
        ]

    def __str__(self) -> str:
        return self.name
