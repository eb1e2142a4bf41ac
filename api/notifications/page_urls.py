"""Server-rendered newsletter pages under /newsletter/ (the links in emails' bodies)."""

from django.urls import path

from notifications import pages

urlpatterns = [
    path("confirm/", pages.ConfirmPage.as_view(), name="newsletter-confirm-page"),
    path("unsubscribe/", pages.UnsubscribePage.as_view(), name="newsletter-unsubscribe-page"),
]
