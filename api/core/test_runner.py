"""Makes ``python manage.py test`` (the original README's command) run the pytest suite."""

from typing import Any


class PytestTestRunner:
    def __init__(self, verbosity: int = 1, failfast: bool = False, keepdb: bool = False, **_: Any):
        self.verbosity = verbosity
        self.failfast = failfast
        self.keepdb = keepdb

    @classmethod
    def add_arguments(cls, parser: Any) -> None:
        parser.add_argument("--keepdb", action="store_true", help="Preserve the test database.")

    def run_tests(self, test_labels: list[str], **_: Any) -> int:
        import pytest

        argv = ["--ds=api.settings.test"]
        if self.verbosity == 0:
            argv.append("--quiet")
        elif self.verbosity >= 2:
            argv.append("--verbose")
        if self.failfast:
            argv.append("--exitfirst")
        if self.keepdb:
            argv.append("--reuse-db")
        return pytest.main([*argv, *test_labels])
