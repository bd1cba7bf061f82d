"""A fresh clone works on any machine: nothing tracked points outside the checkout, tool environments are made by
the Makefile (never committed), and `sam build` follows the runtime parameter."""

from __future__ import annotations

import os
import re
import subprocess

import pytest

from local.template import ROOT, load_template


def tracked() -> list[tuple[str, str]]:
    """(mode, path) of every tracked file."""
    try:
        listing = subprocess.run(
            ["git", "ls-files", "-s", "-z"], cwd=ROOT, capture_output=True, text=True, check=True
        ).stdout
    except (OSError, subprocess.CalledProcessError):
        pytest.skip("not a git checkout (no git, or no .git): nothing is tracked to check")
    rows = []
    for entry in filter(None, listing.split("\0")):
        meta, path = entry.split("\t", 1)
        rows.append((meta.split()[0], path))
    return rows


def test_no_tracked_symlink_leaves_the_repository() -> None:
    # A symlink into /tmp (as .venv-sam once was) works only on the machine that made it.
    escaping = []
    for mode, path in tracked():
        if mode != "120000":
            continue
        target = os.readlink(ROOT / path)
        resolved = (ROOT / path).parent.joinpath(target).resolve()
        if os.path.isabs(target) or not resolved.is_relative_to(ROOT.resolve()):
            escaping.append(f"{path} -> {target}")
    assert escaping == [], "tracked symlinks that leave the checkout: " + ", ".join(escaping)


def test_tool_environments_are_made_by_the_makefile_not_committed() -> None:
    paths = [path for _, path in tracked()]
    for environment in (".venv", ".venv-sam", ".aws-sam"):
        assert not any(p == environment or p.startswith(environment + "/") for p in paths), environment
        ignored = subprocess.run(["git", "check-ignore", "-q", f"{environment}/bin"], cwd=ROOT)
        assert ignored.returncode == 0, f"{environment} is not in .gitignore"
    makefile = (ROOT / "Makefile").read_text()
    assert "-m venv $(VENV)" in makefile and "-m venv $(SAM_VENV)" in makefile


@pytest.mark.parametrize("name", ["Makefile", ".ci/run", "pyproject.toml", "samconfig.toml", "template.yaml"])
def test_build_files_name_no_path_of_this_machine(name: str) -> None:
    text = (ROOT / name).read_text()
    assert not re.search(r"(?<![\w.])(/tmp/|/root/|/home/|/Users/|/work/)\w", text), name


def test_the_layer_is_built_for_the_runtime_the_functions_run() -> None:
    # sam build resolves !Ref in Metadata: `--parameter-overrides PythonRuntime=python3.13` builds the layer's
    # compiled packages (pydantic-core) for 3.13, the runtime the functions then run (scripts/build_check.sh).
    template = load_template()
    layer = template["Resources"]["CommonLayer"]
    assert layer["Metadata"]["BuildMethod"] == {"Ref": "PythonRuntime"}
    assert template["Globals"]["Function"]["Runtime"] == {"Ref": "PythonRuntime"}
    allowed = template["Parameters"]["PythonRuntime"]["AllowedValues"]
    assert set(allowed) <= set(layer["Properties"]["CompatibleRuntimes"])


def test_make_picks_a_runtime_this_machine_can_build_and_the_template_allows() -> None:
    dry_run = subprocess.run(
        ["make", "--no-print-directory", "-n", "build"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env={**os.environ, "MAKEFLAGS": ""},
    ).stdout
    picked = re.search(r"sam build --parameter-overrides PythonRuntime=(python3\.\d+)", dry_run)
    assert picked, dry_run[-2000:]
    assert picked.group(1) in load_template()["Parameters"]["PythonRuntime"]["AllowedValues"]
    assert subprocess.run([picked.group(1), "-c", ""], capture_output=True).returncode == 0, picked.group(1)


def test_readme_says_which_python_sam_build_needs() -> None:
    readme = (ROOT / "README.md").read_text()
    assert "--use-container" in readme and "PYTHON_RUNTIME" in readme
