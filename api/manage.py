#!/usr/bin/env python
"""Django's command-line utility for administrative tasks."""

import os
import sys
from pathlib import Path


def _use_the_project_venv() -> None:
    """`cd api && python manage.py ...` works as the README writes it, venv activated or not:
    a Python without Django hands over to the project's own `.venv` (made by `make`)."""
    try:
        import django  # noqa: F401
    except ImportError:
        venv_python = Path(__file__).resolve().parent.parent / ".venv" / "bin" / "python"
        if venv_python.exists() and Path(sys.executable).resolve() != venv_python.resolve():
            os.execv(str(venv_python), [str(venv_python), *sys.argv])  # noqa: S606 - our own venv
        raise SystemExit(
            "Django isn't installed for this Python. Run `make install` at the repository root "
            "first (it creates .venv), or activate a virtualenv with requirements/dev.txt."
        ) from None


def main() -> None:
    _use_the_project_venv()
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
