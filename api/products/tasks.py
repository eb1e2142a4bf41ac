from celery import shared_task

from products.services import offers


@shared_task(ignore_result=True)
def flip_offer_prices_task(*, sweep: bool = False) -> int:
    """At an offer's start or end (scheduled for that second), and by beat every minute with
    ``sweep``: listed prices follow the clock; the sweep also schedules the coming minute's
    boundaries."""
    flipped = offers.flip_due()
    if sweep:
        offers.schedule_upcoming()
    return flipped
