"""Query budgets of the notifications endpoints not budgeted beside their behaviour: templates
and assets lists (constant however many rows), preferences, the unread count."""

import pytest

from notifications.models import Preference
from notifications.seeds import seed

pytestmark = pytest.mark.django_db


def test_the_templates_and_assets_lists_cost_the_same_for_any_number(
    staff_client, django_assert_num_queries
):
    seed()  # 22 templates, each with a stylesheet and an image
    # The caller, the count, the page, its styles, images and attachments.
    with django_assert_num_queries(6):
        listed = staff_client.get("/api/notifications/templates/?page_size=100")
    with django_assert_num_queries(3):  # the caller, the count, the page
        assets = staff_client.get("/api/notifications/assets/")

    assert listed.json()["count"] >= 20
    assert assets.json()["count"] == 2


def test_preferences_and_the_unread_count_are_one_read_each(
    user, auth_client, django_assert_num_queries
):
    Preference.objects.create(user=user, kind="chat_unread", email=False)

    with django_assert_num_queries(2):  # the caller, their preferences
        auth_client.get("/api/notifications/preferences/")
    with django_assert_num_queries(2):  # the caller, the count
        auth_client.get("/api/notifications/unread-count/")
