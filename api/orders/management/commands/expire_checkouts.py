from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from django.utils import timezone

from orders.models import Checkout
from orders.services import window


class Command(BaseCommand):
    help = "Expire every unpaid checkout past its payment deadline (what beat runs each minute)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--dry-run", action="store_true", help="Only count them.")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["dry_run"]:
            due = Checkout.objects.filter(
                status=Checkout.Status.PENDING_PAYMENT, payment_deadline__lte=timezone.now()
            ).count()
            self.stdout.write(f"{due} checkout(s) would expire.")
            return
        count = window.expire_due_checkouts()
        self.stdout.write(self.style.SUCCESS(f"{count} checkout(s) expired."))
