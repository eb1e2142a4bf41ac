"""System checks for payment settings that would silently break payments in production."""

from typing import Any

from django.conf import settings
from django.core.checks import Tags, Warning, register


@register(Tags.security, deploy=True)
def check_payment_settings(app_configs: Any = None, **kwargs: Any) -> list[Warning]:
    warnings = []
    if settings.PAYMENT_TEST_GATEWAY_ENABLED:
        warnings.append(
            Warning(
                "The test gateway is enabled: anyone can 'pay' with a test card.",
                hint="Unset PAYMENT_TEST_GATEWAY_ENABLED in production.",
                id="payments.W001",
            )
        )
    if settings.STRIPE_SECRET_KEY and not settings.STRIPE_WEBHOOK_SECRET:
        warnings.append(
            Warning(
                "Stripe is enabled without STRIPE_WEBHOOK_SECRET: its webhooks will all be "
                "refused, so a payment confirmed by Stripe.js is seen only when the buyer "
                "confirms it here.",
                id="payments.W002",
            )
        )
    if settings.PAYPAL_CLIENT_ID and not settings.PAYPAL_WEBHOOK_ID:
        warnings.append(
            Warning(
                "PayPal is enabled without PAYPAL_WEBHOOK_ID: its webhooks will all be refused.",
                id="payments.W003",
            )
        )
    return warnings
