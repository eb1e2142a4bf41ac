#!/usr/bin/env python
"""Django's command-line utility for administrative tasks."""

import os
import sys


def main() -> None:
    # `manage.py test` runs the pytest suite with the test settings, as `make test` does.
    is_test = len(sys.argv) > 1 and sys.argv[1] == "test"
    settings_module = "api.settings.test" if is_test else "api.settings"
    if len(sys.argv) > 1 and sys.argv[1] == "makemigrations":
        # Writes code, never runs in production: no SECRET_KEY needed for it.
        os.environ.setdefault("DEBUG", "true")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", settings_module)
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)


if __name__ == "__main__":
    main()
