"""The newsletter pages a person reaches from an email: a button to confirm a subscription and a
button to unsubscribe, each a CSRF-protected POST — so a mail scanner that follows links
confirms or unsubscribes nobody. Mail clients' own one-click unsubscribe (RFC 8058) POSTs to
the API instead (``/api/newsletter/unsubscribe/``). In the subscriber's language."""

from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.decorators import method_decorator
from django.views import View
from django.views.decorators.cache import never_cache

from notifications import newsletter
from notifications.models import Subscriber

TEXT = {
    "confirm": {
        "ar": {
            "title": "تأكيد الاشتراك في النشرة",
            "ask": "اضغط الزر لتأكيد اشتراك {address} في نشرة سودامول.",
            "done": "تم تأكيد اشتراكك. شكراً لك!",
            "button": "تأكيد الاشتراك",
            "footer": "إن لم تطلب الاشتراك، أغلق هذه الصفحة.",
            "invalid": "هذا الرابط غير صالح أو انتهت صلاحيته. اشترك مرة أخرى لتصلك رسالة جديدة.",
        },
        "en": {
            "title": "Confirm your newsletter subscription",
            "ask": "Press the button to subscribe {address} to the Sudamall newsletter.",
            "done": "You are subscribed. Thank you!",
            "button": "Confirm",
            "footer": "If you didn't ask to subscribe, close this page.",
            "invalid": "This link is not valid or has expired. Subscribe again for a new one.",
        },
    },
    "unsubscribe": {
        "ar": {
            "title": "إلغاء الاشتراك في النشرة",
            "ask": "اضغط الزر لإيقاف نشرة سودامول إلى {address}.",
            "done": "تم إلغاء اشتراكك، ولن تصلك النشرة بعد الآن.",
            "button": "إلغاء الاشتراك",
            "footer": "رسائل طلباتك ومدفوعاتك ستصلك كالمعتاد.",
            "invalid": "هذا الرابط غير صالح.",
        },
        "en": {
            "title": "Unsubscribe from the newsletter",
            "ask": "Press the button to stop the Sudamall newsletter to {address}.",
            "done": "You are unsubscribed and will get no more newsletters.",
            "button": "Unsubscribe",
            "footer": "Emails about your orders and payments still reach you.",
            "invalid": "This link is not valid.",
        },
    },
}


def _language(address: str | None) -> str:
    if address:
        found = Subscriber.objects.filter(address=address).values_list("language", flat=True)
        return found.first() or "ar"
    return "ar"


@method_decorator(never_cache, name="dispatch")
class _NewsletterPage(View):
    page = ""

    def address(self, token: str) -> str | None:
        raise NotImplementedError

    def act(self, token: str) -> None:
        raise NotImplementedError

    def _render(self, request: HttpRequest, token: str, *, done: bool = False,
                invalid: bool = False, status: int = 200) -> HttpResponse:  # fmt: skip
        address = None if invalid else self.address(token)
        language = _language(address)
        text = TEXT[self.page][language]
        context: dict[str, Any] = {"language": language, "text": text, "token": token}
        if invalid:
            context["error"] = text["invalid"]
        elif done:
            context["message"] = text["done"]
        else:
            masked = newsletter.mask_address(address or "")
            context.update(ask=True, message=text["ask"].format(address=masked))
        return render(request, "notifications/newsletter_page.html", context, status=status)

    def get(self, request: HttpRequest) -> HttpResponse:
        token = request.GET.get("token", "")
        try:
            self.address(token)
        except (newsletter.InvalidToken, newsletter.TokenExpired):
            return self._render(request, token, invalid=True, status=400)
        return self._render(request, token)

    def post(self, request: HttpRequest) -> HttpResponse:
        token = request.POST.get("token", "")
        try:
            self.act(token)
        except (newsletter.InvalidToken, newsletter.TokenExpired):
            return self._render(request, token, invalid=True, status=400)
        return self._render(request, token, done=True)


class ConfirmPage(_NewsletterPage):
    page = "confirm"

    def address(self, token: str) -> str | None:
        return newsletter.confirm_address(token)

    def act(self, token: str) -> None:
        newsletter.confirm(token)


class UnsubscribePage(_NewsletterPage):
    page = "unsubscribe"

    def address(self, token: str) -> str | None:
        return newsletter.unsubscribe_address(token)

    def act(self, token: str) -> None:
        newsletter.unsubscribe(token)
