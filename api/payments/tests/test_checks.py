"""Production must not run with the test gateway, or with a provider whose webhooks it can't
verify: `check --deploy` says so."""

import subprocess
import sys
from pathlib import Path

import pytest

from core.tests.test_settings import API_DIR, LONG_KEY, clean_env

pytestmark = pytest.mark.slow  # each case runs check --deploy in a new process


@pytest.mark.parametrize(
    ("extra", "warning"),
    [
        ({"PAYMENT_TEST_GATEWAY_ENABLED": "true"}, "payments.W001"),
        ({"STRIPE_SECRET_KEY": "sk_live_x"}, "payments.W002"),
        ({"PAYPAL_CLIENT_ID": "id", "PAYPAL_CLIENT_SECRET": "secret"}, "payments.W003"),
    ],
)
def test_check_deploy_refuses_unsafe_payment_settings(tmp_path: Path, extra, warning):
    completed = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=API_DIR,
        env={
            **clean_env(),
            "DJANGO_SETTINGS_MODULE": "api.settings",
            "DJANGO_READ_DOT_ENV_FILE": "false",
            "DEBUG": "false",
            "SECRET_KEY": LONG_KEY,
            "ALLOWED_HOSTS": "shop.example.com",
            "SUDAMALL_VAR_DIR": str(tmp_path / "var"),
            "LOG_TO_FILE": "false",
            **extra,
        },
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert completed.returncode != 0
    assert warning in completed.stderr
