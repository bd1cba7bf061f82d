"""Every shell block of README.md runs verbatim, in order, against the local stack as `make run` starts it.

The stack and the webhook receiver run as `make run` and `make receiver` do (their own processes, their own
defaults); the blocks run in one bash session, so a variable set in one block is there in the next, as for a
reader pasting them into one terminal. A block that cannot run here says why in a comment just above it:
`<!-- not run: ... -->`. Every HTTP answer must be a success, except those the README itself marks on the line
with `# → NNN`."""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests

from local.template import ROOT

README = ROOT / "README.md"
FENCE = re.compile(r"^(?:<!-- not run: (?P<reason>[^\n]+?) -->\n)?```bash\n(?P<body>.*?)^```$", re.S | re.M)
EXPECTED = re.compile(r"# → (\d{3})\b")
ANSWER = re.compile(r"^@@ (\d{3}) (\S+) (\S+)$", re.M)
# curl, as the blocks call it, also tells stderr the status of each answer (the blocks' output is untouched)
RECORD_CURL = "curl() { command curl -w '%{stderr}@@ %{http_code} %{method} %{url_effective}\\n' \"$@\"; }\n"


@dataclass(frozen=True)
class Block:
    line: int
    body: str
    skipped_because: str | None


def blocks() -> list[Block]:
    text = README.read_text()
    return [
        Block(text[: match.start()].count("\n") + 1, match.group("body"), match.group("reason"))
        for match in FENCE.finditer(text)
    ]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def process(module: str, env: dict[str, str], cwd: Path, ready: str) -> Iterator[Path]:
    """`python -m module` as make starts it, until `ready` answers; yields the file its output goes to."""
    output = cwd / f"{module}.log"
    with output.open("w") as sink:
        child = subprocess.Popen(
            [sys.executable, "-m", module], cwd=cwd, env=env, stdout=sink, stderr=subprocess.STDOUT
        )
        try:
            deadline = time.monotonic() + 60
            while True:
                try:
                    requests.get(ready, timeout=2)
                    break
                except requests.ConnectionError:
                    if child.poll() is not None or time.monotonic() > deadline:
                        raise AssertionError(f"{module} did not start:\n{output.read_text()}") from None
                    time.sleep(0.2)
            yield output
        finally:
            child.terminate()
            try:
                child.wait(timeout=30)
            except subprocess.TimeoutExpired:
                child.kill()


def test_every_block_that_is_not_run_says_why() -> None:
    found = blocks()
    assert len(found) >= 5, "the README's shell blocks were not found"
    for block in found:
        assert block.skipped_because is None or len(block.skipped_because) > 10, block.line


def test_every_readme_shell_block_runs_verbatim_against_make_run(tmp_path: Path) -> None:
    if shutil.which("jq") is None:
        if os.environ.get("CI_TOOLS") == "1":
            pytest.fail("jq is missing, and CI was to install it (.ci/run)")
        pytest.skip("jq is not installed (apt-get install jq), and the README's blocks use it; CI installs it")
    api, receiver = f"http://127.0.0.1:{free_port()}", f"http://127.0.0.1:{free_port()}"
    env = {name: value for name, value in os.environ.items() if not name.startswith(("AWS_", "POWERTOOLS_"))}
    env |= {"PYTHONPATH": str(ROOT), "HOME": str(tmp_path)}
    stack_env = env | {"PORT": api.rsplit(":", 1)[1], "QUIET": "1"}
    receiver_env = env | {"RECEIVER_PORT": receiver.rsplit(":", 1)[1]}
    runnable = [block for block in blocks() if block.skipped_because is None]
    script = "set -euo pipefail\n" + RECORD_CURL
    for block in runnable:
        script += f"echo '@@block {block.line}' >&2\n{block.body}\n"

    # Given the stack and the receiver, started as `make run` and `make receiver` start them
    with (
        process("local.server", stack_env, tmp_path, f"{api}/docs"),
        process("local.receiver", receiver_env, tmp_path, f"{receiver}/hooks") as receiver_log,
    ):
        # When the blocks run in one shell, in the checkout's copy of the reader's terminal
        ran = subprocess.run(
            ["bash", "-c", script],
            cwd=tmp_path,
            env=env | {"API": api, "RECEIVER": receiver, "PATH": os.environ["PATH"]},
            capture_output=True,
            text=True,
            timeout=240,
        )
        time.sleep(2)  # the test delivery is on its way through the queue
        received = receiver_log.read_text()

    # Then every block ran, every answer was a success but those the README marks, and the webhook arrived
    assert ran.returncode == 0, f"a README block failed:\n{ran.stderr[-4000:]}\n{ran.stdout[-2000:]}"
    answers = ANSWER.findall(ran.stderr)
    assert len(answers) >= 15, ran.stderr[-4000:]
    refused = sorted(int(status) for status, _, _ in answers if not 200 <= int(status) < 300)
    marked = sorted(int(status) for block in runnable for status in EXPECTED.findall(block.body))
    assert refused == marked, [answer for answer in answers if not answer[0].startswith("2")]
    assert "verified webhook.test" in received, received
