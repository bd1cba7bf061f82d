"""The shared package's rooms (docs/architecture.md): the import-linter contracts in pyproject.toml hold, they
would catch an upward import, and no module outgrows its room."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "layers" / "common" / "taskboard"
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")
# "no module over ~400 lines": the largest today is core/outbound.py (the SSRF rules, one concern)
MAX_LINES = 425


def _lint_imports(config: Path, path: Path) -> subprocess.CompletedProcess[str]:
    environment = {**os.environ, "PYTHONPATH": str(path)}
    return subprocess.run(
        [str(LINT_IMPORTS), "--config", str(config), "--no-cache"],
        capture_output=True,
        text=True,
        env=environment,
        timeout=120,
        check=False,
    )


def test_the_import_contracts_hold() -> None:
    result = _lint_imports(ROOT / "pyproject.toml", PACKAGE.parent)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]
    assert "3 kept, 0 broken" in result.stdout


def test_an_upward_import_breaks_the_contracts(tmp_path: Path) -> None:
    """The same contracts over a copy of the package where a rule module reaches up into the task service."""
    copy = tmp_path / "taskboard"
    subprocess.run(["cp", "-r", str(PACKAGE), str(copy)], check=True)
    record = copy / "reputation" / "record.py"
    record.write_text(record.read_text() + "\nfrom taskboard.tasks.service import TaskBoard  # noqa\n")
    result = _lint_imports(ROOT / "pyproject.toml", tmp_path)
    assert result.returncode != 0
    assert "taskboard.reputation is not allowed to import taskboard.tasks" in result.stdout, result.stdout[-3000:]


def test_a_cycle_between_modules_of_one_domain_breaks_the_contracts(tmp_path: Path) -> None:
    copy = tmp_path / "taskboard"
    subprocess.run(["cp", "-r", str(PACKAGE), str(copy)], check=True)
    clock = copy / "core" / "clock.py"
    clock.write_text(clock.read_text() + "\nfrom taskboard.core import settings  # noqa\n")
    settings = copy / "core" / "settings.py"
    settings.write_text(settings.read_text() + "\nfrom taskboard.core import clock  # noqa\n")
    result = _lint_imports(ROOT / "pyproject.toml", tmp_path)
    assert result.returncode != 0 and "No cycles" in result.stdout and "BROKEN" in result.stdout, result.stdout[-3000:]


def test_no_module_outgrows_its_room() -> None:
    sizes = {path.relative_to(PACKAGE).as_posix(): len(path.read_text().splitlines()) for path in PACKAGE.rglob("*.py")}
    too_long = {name: lines for name, lines in sizes.items() if lines > MAX_LINES}
    assert not too_long, f"split these by concern (docs/architecture.md): {too_long}"


def test_every_domain_has_its_room_and_no_module_is_left_flat() -> None:
    flat = sorted(path.name for path in PACKAGE.glob("*.py") if path.name not in ("__init__.py", "runtime.py"))
    assert not flat, f"modules outside a domain package: {flat}"
    for domain in ("core", "http", "entry", "tasks", "webhooks", "accounts", "money", "reputation"):
        assert (PACKAGE / domain / "__init__.py").exists(), domain
