"""Payment gateways (docs/payments.md): which are on, their credentials, fees and retry limits.

Stripe is on with its secret key, PayPal with its client id and secret; the test gateway with
``PAYMENT_TEST_GATEWAY_ENABLED`` (on in development only). Unsafe combinations that still run
are reported by ``check --deploy`` (payments.checks); ones that can't work stop the start."""

import hashlib

from api.settings.environment import DEBUG, SECRET_KEY, env, misconfigured

DEFAULT_CURRENCY = env("DEFAULT_CURRENCY", default="SDG")
PAYMENT_WINDOW_MINUTES = env.int("PAYMENT_WINDOW_MINUTES", default=15)

# Each gateway: its class, and its fee (fixed, percent).
PAYMENT_GATEWAYS = {
    "test": "payments.gateways.test.TestGateway",
    "stripe": "payments.gateways.stripe.StripeGateway",
    "paypal": "payments.gateways.paypal.PayPalGateway",
    "cash_on_delivery": "payments.gateways.cash.CashOnDeliveryGateway",
}
PAYMENT_GATEWAY_FEES = {
    "test": (env("PAYMENT_TEST_FEE_FIXED", default="0.30"),
             env("PAYMENT_TEST_FEE_PERCENT", default="2.9")),
    "stripe": (env("STRIPE_FEE_FIXED", default="0.30"),
               env("STRIPE_FEE_PERCENT", default="2.9")),
    "paypal": (env("PAYPAL_FEE_FIXED", default="0.49"),
               env("PAYPAL_FEE_PERCENT", default="3.49")),
    "cash_on_delivery": (env("CASH_ON_DELIVERY_FEE_FIXED", default="0"),
                         env("CASH_ON_DELIVERY_FEE_PERCENT", default="0")),
}  # fmt: skip
# The test gateway takes no money: on for development, off in production unless asked for.
PAYMENT_TEST_GATEWAY_ENABLED = env.bool("PAYMENT_TEST_GATEWAY_ENABLED", default=DEBUG)
PAYMENT_TEST_WEBHOOK_SECRET = env(
    "PAYMENT_TEST_WEBHOOK_SECRET", default="sudamall-development-webhook-secret" if DEBUG else ""
)
PAYMENT_CASH_ON_DELIVERY_ENABLED = env.bool("PAYMENT_CASH_ON_DELIVERY_ENABLED", default=True)

STRIPE_SECRET_KEY = env("STRIPE_SECRET_KEY", default="")
if STRIPE_SECRET_KEY and not STRIPE_SECRET_KEY.startswith(("sk_", "rk_")):
    raise misconfigured(
        "STRIPE_SECRET_KEY",
        "is not a Stripe secret key.",
        "Use the sk_… (or restricted rk_…) key from Stripe's dashboard.",
    )
STRIPE_WEBHOOK_SECRET = env("STRIPE_WEBHOOK_SECRET", default="")
STRIPE_API_VERSION = env("STRIPE_API_VERSION", default="")  # empty: the SDK's pinned version
STRIPE_RETURN_URL = env("STRIPE_RETURN_URL", default="")

PAYPAL_CLIENT_ID = env("PAYPAL_CLIENT_ID", default="")
PAYPAL_CLIENT_SECRET = env("PAYPAL_CLIENT_SECRET", default="")
if bool(PAYPAL_CLIENT_ID) != bool(PAYPAL_CLIENT_SECRET):
    raise misconfigured(
        "PAYPAL_CLIENT_ID",
        "PayPal needs both its client id and its secret.",
        "Set PAYPAL_CLIENT_SECRET too, or neither.",
    )
PAYPAL_WEBHOOK_ID = env("PAYPAL_WEBHOOK_ID", default="")
PAYPAL_MODE = env("PAYPAL_MODE", default="sandbox")
if PAYPAL_MODE not in ("sandbox", "live"):
    raise misconfigured("PAYPAL_MODE", f"{PAYPAL_MODE!r} is neither sandbox nor live.", "")
PAYPAL_API_BASE = env(
    "PAYPAL_API_BASE",
    default="https://api-m.paypal.com"
    if PAYPAL_MODE == "live"
    else "https://api-m.sandbox.paypal.com",
)
PAYPAL_RETURN_URL = env("PAYPAL_RETURN_URL", default="http://localhost:3000/checkout/paypal/return")
PAYPAL_CANCEL_URL = env("PAYPAL_CANCEL_URL", default="http://localhost:3000/checkout/paypal/cancel")

# Webhook processing tries before an event becomes a dead letter; refund tries at the provider.
WEBHOOK_MAX_ATTEMPTS = env.int("WEBHOOK_MAX_ATTEMPTS", default=6)
REFUND_MAX_ATTEMPTS = env.int("REFUND_MAX_ATTEMPTS", default=8)
# Starts every idempotency key and request id sent to providers. Unique per deployment (derived
# from SECRET_KEY by default), so two environments sharing a Stripe or PayPal account, or a
# restored database, never get each other's stored answers back.
PAYMENT_KEY_PREFIX = env(
    "PAYMENT_KEY_PREFIX", default="sm" + hashlib.sha256(SECRET_KEY.encode()).hexdigest()[:10]
)
