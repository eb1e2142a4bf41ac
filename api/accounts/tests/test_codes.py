"""One-time codes: hashed, expiring, single use, locked after 5 wrong tries, superseded."""

from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from accounts import services
from accounts.exceptions import CodeExpired, CodeLocked, InvalidCode
from accounts.models import OneTimeCode
from accounts.tests.factories import UserFactory

pytestmark = pytest.mark.django_db

PURPOSE = OneTimeCode.Purpose.PASSWORD_RESET


def wrong(code: str) -> str:
    return f"{(int(code) + 1) % 1_000_000:06d}"


def test_only_a_keyed_hash_of_the_code_is_stored():
    user = UserFactory()

    code = services.issue_code(user=user, purpose=PURPOSE)

    stored = OneTimeCode.objects.get()
    assert len(code) == 6
    assert code.isdigit()
    assert code not in stored.code_hash
    assert len(stored.code_hash) == 64


def test_a_code_works_once():
    user = UserFactory()
    code = services.issue_code(user=user, purpose=PURPOSE)

    services.consume_code(user=user, purpose=PURPOSE, code=code)

    with pytest.raises(InvalidCode):
        services.consume_code(user=user, purpose=PURPOSE, code=code)


def test_a_code_is_bound_to_its_purpose_and_user():
    user, other = UserFactory(), UserFactory()
    code = services.issue_code(user=user, purpose=PURPOSE)

    with pytest.raises(InvalidCode):
        services.consume_code(user=user, purpose=OneTimeCode.Purpose.DELETE_ACCOUNT, code=code)
    with pytest.raises(InvalidCode):
        services.consume_code(user=other, purpose=PURPOSE, code=code)
    services.consume_code(user=user, purpose=PURPOSE, code=code)


def test_a_code_expires_after_ten_minutes():
    user = UserFactory()
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        code = services.issue_code(user=user, purpose=PURPOSE)
    later = start + timedelta(minutes=10, seconds=1)
    with time_machine.travel(later, tick=False), pytest.raises(CodeExpired):
        services.consume_code(user=user, purpose=PURPOSE, code=code)


def test_a_code_still_works_just_before_it_expires():
    user = UserFactory()
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        code = services.issue_code(user=user, purpose=PURPOSE)
    with time_machine.travel(start + timedelta(minutes=9, seconds=59), tick=False):
        services.consume_code(user=user, purpose=PURPOSE, code=code)


def test_five_wrong_tries_lock_the_code_even_for_the_right_one():
    user = UserFactory()
    code = services.issue_code(user=user, purpose=PURPOSE)

    for attempt in range(1, 6):
        expected = CodeLocked if attempt == 5 else InvalidCode
        with pytest.raises(expected):
            services.consume_code(user=user, purpose=PURPOSE, code=wrong(code))

    with pytest.raises(CodeLocked):
        services.consume_code(user=user, purpose=PURPOSE, code=code)
    assert OneTimeCode.objects.get().attempts == 5


def test_a_new_code_supersedes_the_previous_one():
    user = UserFactory()
    first = services.issue_code(user=user, purpose=PURPOSE)
    second = services.issue_code(user=user, purpose=PURPOSE)

    if first != second:
        with pytest.raises(InvalidCode):
            services.consume_code(user=user, purpose=PURPOSE, code=first)
    services.consume_code(user=user, purpose=PURPOSE, code=second)
