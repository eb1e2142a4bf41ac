"""The notifications admin pages staff open: a template's page with its preview (images shown,
sample lists looped over), an email's page with its attempts, each asset picker offering only
its own kind; post_office's own log is not editable."""

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from post_office.models import Email

from accounts.tests.factories import UserFactory
from notifications import services
from notifications.models import Asset, Template
from notifications.seeds import seed

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def staff() -> Client:
    get_user_model().objects.create_superuser("ops@example.com", password="Ops-password-2026")
    client = Client()
    client.login(email="ops@example.com", password="Ops-password-2026")
    return client


def test_a_templates_page_previews_it_with_its_images_and_sample_lists(staff):
    seed()
    template = Template.objects.get(name="chat_unread.ar")

    page = staff.get(f"/admin/notifications/template/{template.pk}/change/").content.decode()

    assert "data:image/png;base64," in page  # the logo, not a cid: a browser can't follow
    assert "Is this still available?" in page  # the kind's sample messages, looped over
    styles = page.split('id="id_styles"')[1].split("</select>")[0]
    assert "sudamall.css" in styles
    assert "logo.png" not in styles  # an image is not offered as a stylesheet


def test_an_emails_page_shows_it_with_its_attempts(staff):
    seed()
    amna = UserFactory()
    services.notify("welcome", key="welcome:admin", context={"first_name": "Amna"},
                    user_id=amna.pk, address=amna.email)  # fmt: skip
    email = Email.objects.get()

    page = staff.get(f"/admin/post_office/email/{email.pk}/change/")

    assert page.status_code == 200
    assert "sent" in page.content.decode().lower()
    assert staff.get("/admin/post_office/log/").status_code == 404  # only inline, read-only
    assert staff.get("/admin/notifications/dispatch/").status_code == 200
    assert Asset.objects.filter(name="logo.png").exists()
