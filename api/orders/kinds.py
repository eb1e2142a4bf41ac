"""The order notifications the orders app sends (mandatory: a buyer must hear about an order)."""

from notifications.kinds import Kind, register

register(
    Kind(
        name="order_placed",
        category="order",
        variables=frozenset(
            {"first_name", "checkout_id", "minutes", "deadline", "total", "currency", "orders"}
        ),
        description="A checkout was placed: its orders and the payment deadline.",
        priority="high",
        title={
            "en": "Order placed: pay {total} {currency} by {deadline} UTC",
            "ar": "تم تقديم الطلب: ادفع {total} {currency} قبل {deadline} بتوقيت UTC",
        },
        body={
            "en": "We hold your items for {minutes} minutes.",
            "ar": "نحجز منتجاتك لمدة {minutes} دقيقة.",
        },
        link="/checkouts/{checkout_id}",
        sample={
            "minutes": 15,
            "total": "12500.00",
            "currency": "SDG",
            "orders": [
                {
                    "number": "SM-00000017",
                    "store": "Kassala Dates",
                    "lines": [
                        {
                            "name": "Ajwa dates",
                            "size": "1 kg",
                            "quantity": 2,
                            "line_total": "9000.00",
                        },
                        {"name": "Karkade", "size": "", "quantity": 1, "line_total": "3500.00"},
                    ],
                }
            ],
        },
    ),
    Kind(
        name="order_status",
        category="order",
        variables=frozenset({"first_name", "order_id", "number", "store", "status", "note"}),
        description="An order was shipped, delivered, cancelled, refunded or expired.",
        title={"en": "Order {number}: {status}", "ar": "الطلب {number}: {status}"},
        body={"en": "{store}", "ar": "{store}"},
        link="/orders/{order_id}",
        sample={"status": "shipped", "number": "SM-00000017", "note": ""},
    ),
)
