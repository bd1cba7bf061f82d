"""The report's output: every line goes to stdout and is kept for `--markdown`; progress goes to stderr only."""

from __future__ import annotations

import io
import sys
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

_captured = io.StringIO()


def out(text: str = "") -> None:
    print(text, flush=True)
    _captured.write(text + "\n")


def progress(text: str) -> None:
    print(f"  .. {text}", file=sys.stderr, flush=True)


def table(headers: Sequence[str], rows: Iterable[Sequence[Any]], right: Iterable[int] = ()) -> None:
    """An aligned text table; columns listed in `right` are right-aligned (numbers)."""
    cells = [[str(cell) for cell in row] for row in rows]
    widths = [max(len(text) for text in column) for column in zip(headers, *cells, strict=True)]
    aligned = set(right)

    def line(row: Sequence[str]) -> str:
        parts = [
            text.rjust(w) if i in aligned else text.ljust(w)
            for i, (text, w) in enumerate(zip(row, widths, strict=True))
        ]
        return "  ".join(parts).rstrip()

    out(line(headers))
    out("  ".join("-" * w for w in widths))
    for row in cells:
        out(line(row))


def section(title: str) -> None:
    out()
    out(title)
    out("=" * len(title))


def number(value: float) -> str:
    return f"{value:,.1f}".removesuffix(".0") if value != int(value) else f"{int(value):,}"


def write_markdown(path: Path) -> None:
    """Everything `out` printed, as docs/bench.md holds it."""
    header = f"Produced by `make bench` (this copy: `--markdown docs/bench.md`) on {datetime.now(UTC):%Y-%m-%d}.\n\n"
    path.write_text(header + "```text\n" + _captured.getvalue().strip("\n") + "\n```\n")
