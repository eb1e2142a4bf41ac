"""The pages the newsletter emails link to, as a person meets them in a browser: a GET shows what
will happen and changes nothing (a mail scanner following the link confirms or unsubscribes
nobody); the button is a CSRF-protected POST; the page speaks the subscriber's language."""

import re

import pytest
from django.test import Client

from notifications import newsletter, services
from notifications.models import Subscriber
from notifications.tests.test_newsletter import confirm_tokens, tampered

pytestmark = pytest.mark.django_db


def press_the_button(path: str, token: str) -> tuple[int, str, int, str]:
    """GET the page as a browser, then submit its form with the CSRF cookie it set."""
    browser = Client(enforce_csrf_checks=True)
    page = browser.get(path, {"token": token})
    form = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.content.decode())
    assert form is not None, "the page has no form"
    done = browser.post(path, {"token": token, "csrfmiddlewaretoken": form.group(1)})
    return page.status_code, page.content.decode(), done.status_code, done.content.decode()


def test_the_confirm_page_confirms_only_when_its_button_is_pressed(
    django_capture_on_commit_callbacks,
):
    with django_capture_on_commit_callbacks(execute=True):
        newsletter.subscribe(address="amna@example.com", language="en")
    (token,) = confirm_tokens("amna@example.com")

    first_look = Client().get("/newsletter/confirm/", {"token": token})
    assert Subscriber.objects.get().status == "pending"  # a scanner's GET changes nothing
    status, page, done_status, done = press_the_button("/newsletter/confirm/", token)

    assert first_look.status_code == status == done_status == 200
    assert "a***@example.com" in page
    assert "You are subscribed" in done
    assert Subscriber.objects.get().status == "subscribed"


def test_the_unsubscribe_page_speaks_arabic_right_to_left_and_unsubscribes_on_the_button():
    Subscriber.objects.create(address="amna@example.com", status="subscribed", language="ar")
    token = services.unsubscribe_token("amna@example.com")

    status, page, done_status, done = press_the_button("/newsletter/unsubscribe/", token)

    assert status == done_status == 200
    assert 'lang="ar" dir="rtl"' in page
    assert "إلغاء الاشتراك" in page
    assert "تم إلغاء اشتراكك" in done
    assert Subscriber.objects.get().status == "unsubscribed"


def test_a_post_without_the_csrf_token_or_with_a_tampered_token_changes_nothing():
    Subscriber.objects.create(address="amna@example.com", status="subscribed")
    token = services.unsubscribe_token("amna@example.com")

    forged = Client(enforce_csrf_checks=True).post("/newsletter/unsubscribe/", {"token": token})
    bad = Client().post("/newsletter/unsubscribe/", {"token": tampered(token)})
    bad_look = Client().get("/newsletter/unsubscribe/", {"token": "nonsense"})

    assert forged.status_code == 403
    assert bad.status_code == 400
    assert bad_look.status_code == 400
    assert Subscriber.objects.get().status == "subscribed"
