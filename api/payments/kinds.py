"""The payment notifications the payments app sends (mandatory: money moved)."""

from notifications.kinds import Kind, register

register(
    Kind(
        name="payment_succeeded",
        category="payment",
        variables=frozenset({"first_name", "amount", "currency", "checkout_id", "gateway"}),
        description="A payment was received.",
        priority="high",
        title={
            "en": "Payment received: {amount} {currency}",
            "ar": "تم استلام الدفع: {amount} {currency}",
        },
        body={"en": "Your orders are confirmed.", "ar": "تم تأكيد طلباتك."},
        link="/checkouts/{checkout_id}",
    ),
    Kind(
        name="payment_failed",
        category="payment",
        variables=frozenset({"first_name", "amount", "currency", "reason", "deadline"}),
        description="A payment was declined (the first decline and the final one).",
        priority="high",
        title={
            "en": "Your payment of {amount} {currency} did not go through",
            "ar": "لم يتم الدفع بمبلغ {amount} {currency}",
        },
        body={
            "en": "Try again before {deadline} UTC.",
            "ar": "حاول مرة أخرى قبل {deadline} بتوقيت UTC.",
        },
    ),
    Kind(
        name="payment_refunded",
        category="payment",
        variables=frozenset(
            {"first_name", "amount", "currency", "reason", "late_payment", "fully_refunded"}
        ),
        description="A refund was paid back.",
        title={"en": "Refund of {amount} {currency}", "ar": "استرداد {amount} {currency}"},
        body={"en": "{reason}", "ar": "{reason}"},
        sample={"late_payment": False, "fully_refunded": True, "reason": ""},
    ),
)
