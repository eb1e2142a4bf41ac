"""The dependency direction of DESIGN.md, enforced: the import-linter contracts in pyproject.toml
(apps import downwards only; no domain app imports the project package) hold for the code as it
is — and the same contracts really break on an upward import."""

import os
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
LINT_IMPORTS = str(Path(sys.executable).parent / "lint-imports")

pytestmark = pytest.mark.slow  # import-linter runs in a new process


def lint_imports(config: Path, pythonpath: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [LINT_IMPORTS, "--config", str(config), "--no-cache"],
        cwd=pythonpath,
        env={**os.environ, "PYTHONPATH": str(pythonpath)},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_every_import_points_down_the_layers():
    result = lint_imports(ROOT / "pyproject.toml", ROOT / "api")

    assert result.returncode == 0, result.stdout + result.stderr
    assert "2 kept, 0 broken" in result.stdout


def test_the_same_contracts_break_on_an_upward_import(tmp_path: Path):
    """Guards the guard: the project's own contracts over empty packages of the same names,
    where carts imports payments."""
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]
    for package in config["root_packages"]:
        (tmp_path / package).mkdir()
        (tmp_path / package / "__init__.py").write_text("")
    (tmp_path / "payments" / "models.py").write_text("")
    (tmp_path / "carts" / "selectors.py").write_text("from payments import models\n")
    layers = next(c for c in config["contracts"] if c["type"] == "layers")["layers"]
    listed = "\n".join  # an ini list: one item per indented line
    (tmp_path / "setup.cfg").write_text(
        "[importlinter]\nroot_packages =\n"
        + listed(f"    {package}" for package in config["root_packages"])
        + "\n[importlinter:contract:layers]\nname = probe\ntype = layers\nlayers =\n"
        + listed(f"    {layer}" for layer in layers)
        + "\n"
    )

    result = lint_imports(tmp_path / "setup.cfg", tmp_path)

    assert result.returncode != 0
    assert "carts is not allowed to import payments" in result.stdout
