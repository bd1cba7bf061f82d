"""The patterns of an output_schema, run on RE2: linear time in the text, whatever the pattern.

JSON Schema patterns are ECMA-262 regular expressions, and Python's `re` backtracks: `^(a+)+$` against 30 `a`
and a `!` took a minute. Every pattern an output_schema holds (`pattern`, the keys of `patternProperties`, so
also `propertyNames` and `additionalProperties`/`unevaluatedProperties`, which read them) runs here instead:

- **translated** from ECMA-262 to RE2 syntax where the two differ (`\\uXXXX`, `\\u{...}`, `\\cX`, `\\s` and `.`
  with ECMA's meaning, `\\p{Script=...}`, `[]`, `[^]`), and **refused** where RE2 cannot follow: lookahead,
  lookbehind and backreferences, which need backtracking (PatternRefused, a 400 at post time);
- **compiled** with RE2 (google-re2) under a memory cap per pattern, and kept in one bounded cache;
- **searched** only while the work of one search (text bytes times program size: RE2's worst case when its
  DFA gives up) is bounded, and only until the check's deadline (TooComplex past either).

jsonschema calls `re.search` from its keyword modules; `install()` puts a stand-in there that sends the call to
RE2 while a check made by taskboard.core.schema_check runs (inside `deadline(...)`) and to `re` otherwise, so any other
user of jsonschema in the process is unaffected."""

from __future__ import annotations

import contextlib
import contextvars
import functools
import re
import threading
import time
from collections import OrderedDict
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

# Memory RE2 may use for one pattern (program and DFA cache). A pattern that does not fit is refused: bounded
# repetitions of wide classes unroll, `[\p{L}]{1,100}` is 120,000 instructions. CACHE_MAX patterns fit in 64 MB.
MAX_MEM = 512 * 1024
CACHE_MAX = 128
# What one output_schema may hold: distinct patterns, and their compiled size together (compiling costs ~0.5 us
# an instruction, at post time and again in each container that checks a result).
PATTERNS_MAX = 100
PROGRAM_TOTAL_MAX = 50_000
# One search cannot be interrupted, and costs up to ~10 ns x text bytes x program instructions (RE2's NFA, once
# its DFA runs out of memory: `a[ab]{1000}c` over 30 KB of a and b, 0.3 s here). A search over more is refused
# (TooComplex) rather than started; only wide patterns on long strings come near (`^\p{L}+$` is 1,199
# instructions: strings up to 25 KB).
SEARCH_WORK_MAX = 30_000_000

# ECMA-262 WhiteSpace and LineTerminator (what `\s` means there); RE2's `\s` is only [\t\n\f\r ].
_ECMA_SPACE = r"\t\n\x0B\f\r \x{A0}\x{1680}\x{2000}-\x{200A}\x{2028}\x{2029}\x{202F}\x{205F}\x{3000}\x{FEFF}"
# ECMA-262 `.`: any character but the line terminators (RE2's `.` stops only at \n).
_ECMA_DOT = r"[^\n\r\x{2028}\x{2029}]"
_ANY = r"[\x00-\x{10FFFF}]"
_NOTHING = r"[^\x00-\x{10FFFF}]"
# Unicode general categories by their long names (ECMA-262 takes both); RE2 knows the short ones.
_CATEGORIES = {
    "Letter": "L", "Cased_Letter": "LC", "Uppercase_Letter": "Lu", "Lowercase_Letter": "Ll",
    "Titlecase_Letter": "Lt", "Modifier_Letter": "Lm", "Other_Letter": "Lo", "Mark": "M", "Combining_Mark": "M",
    "Nonspacing_Mark": "Mn", "Spacing_Mark": "Mc", "Enclosing_Mark": "Me", "Number": "N", "Decimal_Number": "Nd",
    "digit": "Nd", "Letter_Number": "Nl", "Other_Number": "No", "Punctuation": "P", "punct": "P",
    "Connector_Punctuation": "Pc", "Dash_Punctuation": "Pd", "Open_Punctuation": "Ps", "Close_Punctuation": "Pe",
    "Initial_Punctuation": "Pi", "Final_Punctuation": "Pf", "Other_Punctuation": "Po", "Symbol": "S",
    "Math_Symbol": "Sm", "Currency_Symbol": "Sc", "Modifier_Symbol": "Sk", "Other_Symbol": "So", "Separator": "Z",
    "Space_Separator": "Zs", "Line_Separator": "Zl", "Paragraph_Separator": "Zp", "Other": "C", "Control": "Cc",
    "cntrl": "Cc", "Format": "Cf", "Surrogate": "Cs", "Private_Use": "Co", "Unassigned": "Cn",
}  # fmt: skip
_HEX = frozenset("0123456789abcdefABCDEF")
_LOOKAROUND = ("(?=", "(?!", "(?<=", "(?<!")
# Why lookaround and backreferences are refused: the message of a refusal ends with it.
WHY_RE2 = (
    "Patterns run on RE2, which takes time linear in the text whatever the pattern: it has no lookaround or "
    "backreferences, which need backtracking."
)


class PatternRefused(ValueError):
    """A pattern this board will not run: RE2 cannot compile it, or it is not ECMA-262 syntax RE2 can follow."""

    def __init__(self, pattern: str, reason: str) -> None:
        super().__init__(f"{pattern!r} {reason}")
        self.pattern = pattern
        self.reason = reason


class TooComplex(Exception):
    """A check ran past its deadline or its work budget, or one search would be too big to bound."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


# ---- ECMA-262 to RE2 ------------------------------------------------------------------------------------------


def _hex_at(pattern: str, start: int, count: int) -> int | None:
    digits = pattern[start : start + count]
    return int(digits, 16) if len(digits) == count and set(digits) <= _HEX else None


def _unicode_escape(pattern: str, i: int) -> tuple[int, int]:
    """`\\uXXXX` (a surrogate pair as one code point) or `\\u{X...}` at `i`: (code point, index after it)."""
    if pattern.startswith("{", i + 2):
        end = pattern.find("}", i + 3)
        digits = pattern[i + 3 : end] if end > 0 else ""
        if not digits or not set(digits) <= _HEX or int(digits, 16) > 0x10FFFF:
            raise PatternRefused(pattern, "has a \\u{...} escape that is not a code point (at most \\u{10FFFF})")
        code, after = int(digits, 16), end + 1
    else:
        found = _hex_at(pattern, i + 2, 4)
        if found is None:
            raise PatternRefused(pattern, "has \\u without 4 hex digits after it")
        code, after = found, i + 6
        low = _hex_at(pattern, after + 2, 4) if pattern.startswith("\\u", after) else None
        if 0xD800 <= code <= 0xDBFF and low is not None and 0xDC00 <= low <= 0xDFFF:
            code, after = 0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00), after + 6
    if 0xD800 <= code <= 0xDFFF:
        raise PatternRefused(pattern, f"has a lone UTF-16 surrogate \\u{code:04X}, which no text here can hold")
    return code, after


def _property(name: str) -> str:
    """An ECMA-262 `\\p{...}` body as RE2 names it: `Script=Greek` is `Greek`, `gc=Letter` is `L`."""
    key, sep, value = name.partition("=")
    if sep and key in ("Script", "sc"):
        return value
    if sep and key in ("General_Category", "gc"):
        name = value
    return _CATEGORIES.get(name, name)


def translate(pattern: str) -> str:
    """The RE2 pattern that means what the ECMA-262 `pattern` means, or PatternRefused.

    Escapes, classes and groups are read the ECMA-262 way; whatever needs no change is passed on for RE2 to judge.
    Kept as in Python's `re` (what this board ran before, and what schemas written for Python expect): `\\A`,
    `\\Z`, `(?i)`-style flags, `(?P<name>...)`. `\\d`, `\\w` and `\\b` are ASCII in ECMA-262 and RE2 alike, and
    `$` matches at the very end only (Python's also matched before a final newline)."""
    out: list[str] = []
    i, n = 0, len(pattern)
    in_class = False
    while i < n:
        c = pattern[i]
        if c == "\\":
            if i + 1 == n:
                raise PatternRefused(pattern, "ends with a lone backslash")
            d = pattern[i + 1]
            if d == "u":
                code, i = _unicode_escape(pattern, i)
                out.append(f"\\x{{{code:X}}}")
                continue
            if d == "s":
                out.append(_ECMA_SPACE if in_class else f"[{_ECMA_SPACE}]")
            elif d == "S":  # inside a class RE2's own \S, which also takes \v and the Unicode spaces
                out.append("\\S" if in_class else f"[^{_ECMA_SPACE}]")
            elif d in "pP" and pattern.startswith("{", i + 2) and (end := pattern.find("}", i + 3)) > 0:
                out.append(f"\\{d}{{{_property(pattern[i + 3 : end])}}}")
                i = end + 1
                continue
            elif d == "c" and i + 2 < n and pattern[i + 2].isascii() and pattern[i + 2].isalpha():
                out.append(f"\\x{{{ord(pattern[i + 2]) % 32:02X}}}")
                i += 3
                continue
            elif d == "b" and in_class:  # [\b] is a backspace
                out.append("\\x08")
            elif d == "Z":
                out.append("\\z")
            elif (d in "123456789" and not in_class) or (d == "k" and pattern.startswith("<", i + 2)):
                raise PatternRefused(pattern, f"uses a backreference (\\{d}...)")
            elif d in "QEC":
                raise PatternRefused(pattern, f"uses \\{d}, which is not ECMA-262 syntax")
            else:
                out.append(pattern[i : i + 2])
            i += 2
            continue
        if in_class:
            if c == "]":
                in_class = False
            out.append("\\[" if c == "[" else c)  # RE2 would read [:alpha:] inside a class as a POSIX class
            i += 1
            continue
        if c == "[":
            start = i + 2 if pattern.startswith("^", i + 1) else i + 1
            if pattern.startswith("]", start):  # ECMA-262: [] matches nothing and [^] any character
                out.append(_ANY if start == i + 2 else _NOTHING)
                i = start + 1
                continue
            out.append(pattern[i:start])
            in_class, i = True, start
            continue
        if c == "(" and pattern.startswith(_LOOKAROUND, i):
            raise PatternRefused(pattern, "uses lookahead or lookbehind ((?=, (?!, (?<=, (?<!)")
        if c == "(" and pattern.startswith("(?P=", i):
            raise PatternRefused(pattern, "uses a backreference ((?P=name))")
        out.append(_ECMA_DOT if c == "." else c)
        i += 1
    return "".join(out)


# ---- compiling, with one cache for the process ----------------------------------------------------------------


@dataclass(frozen=True)
class Compiled:
    regex: Any  # re2._Regexp
    program_size: int


_cache: OrderedDict[str, Compiled | str] = OrderedDict()  # a pattern's compiled form, or why it is refused
_cache_lock = threading.Lock()


def _why(message: str) -> str:
    if "too large" in message:
        return (
            f"is too large for RE2: it compiles to more than the {MAX_MEM // 1024} KB one pattern may use "
            "(a bounded repetition of a wide class such as [\\p{L}]{1,100} unrolls into that many states: "
            "check the length with minLength/maxLength instead)"
        )
    if "repetition" in message:
        return "repeats more than RE2 allows: a count is at most 1,000, nested counts multiplied"
    return f"is not a pattern RE2 accepts ({message})"


def _compile(pattern: str) -> Compiled | str:
    import re2

    try:
        translated = translate(pattern)
    except PatternRefused as refused:
        return refused.reason
    options = re2.Options()
    options.max_mem = MAX_MEM
    options.never_capture = True  # only whether it matches is asked
    options.log_errors = False
    try:
        regex = re2.compile(translated, options)
    except re2.error as error:
        text = error.args[0] if error.args else ""
        return _why(text.decode(errors="replace") if isinstance(text, bytes) else str(text))
    finally:
        re2.purge()  # the module's own cache would keep 128 more compiled patterns alive: this one is the cache
    return Compiled(regex, regex.programsize)


def compiled(pattern: str) -> Compiled:
    """`pattern` compiled for RE2 (cached), or PatternRefused saying why it cannot be."""
    with _cache_lock:
        found = _cache.get(pattern)
        if found is not None:
            _cache.move_to_end(pattern)
    if found is None:
        found = _compile(pattern)
        with _cache_lock:
            _cache[pattern] = found
            while len(_cache) > CACHE_MAX:
                _cache.popitem(last=False)
    if isinstance(found, str):
        raise PatternRefused(pattern, found)
    return found


def search(pattern: str, text: str) -> bool:
    """Whether the ECMA-262 `pattern` matches anywhere in `text` (JSON Schema patterns are not anchored)."""
    check_time(force=True)
    found = compiled(pattern)
    data = text.encode("utf-8", "surrogatepass")
    if len(data) * found.program_size > SEARCH_WORK_MAX:
        raise TooComplex(
            f"the pattern {quote(pattern)} ({found.program_size} RE2 instructions) would be run over a string "
            f"of {len(data)} bytes, more than one check may take on"
        )
    return found.regex.search(data) is not None


def quote(text: str, most: int = 80) -> str:
    shown = repr(text)
    return shown if len(shown) <= most else shown[: most - 4] + "...'"


# ---- deadlines ------------------------------------------------------------------------------------------------


@dataclass
class Budget:
    """What one check may spend: time until `deadline` (time.monotonic), and `errors_max` validation errors with
    `text_max` characters of messages (jsonschema keeps every failing branch's errors of an anyOf, each message
    quoting its value, up to the whole result)."""

    seconds: float
    deadline: float
    errors_max: int
    text_max: int
    errors: int = 0
    text: int = 0
    ticks: int = 0


_budget: contextvars.ContextVar[Budget | None] = contextvars.ContextVar("taskboard_check_budget", default=None)


@contextlib.contextmanager
def deadline(seconds: float, errors: int = 1 << 62, text: int = 1 << 62) -> Iterator[Budget]:
    """Run a check within `seconds`, `errors` validation errors and `text` characters of their messages: past any,
    check_time()/spend() raise TooComplex. While one is open, jsonschema's `re.search` runs on RE2."""
    budget = Budget(seconds, time.monotonic() + seconds, errors, text)
    token = _budget.set(budget)
    try:
        yield budget
    finally:
        _budget.reset(token)


def check_time(force: bool = False) -> None:
    """TooComplex once the open check's deadline has passed. Looked at every 32nd call unless `force`d: keyword
    and type checks call this millions of times, and 32 of them take microseconds."""
    budget = _budget.get()
    if budget is None:
        return
    budget.ticks += 1
    if (force or not budget.ticks & 31) and time.monotonic() > budget.deadline:
        raise TooComplex(f"it took more than {budget.seconds:g} s")


def spend(message: str) -> None:
    """Count one validation error and its message against the open check's budget."""
    budget = _budget.get()
    if budget is None:
        return
    budget.errors += 1
    budget.text += len(message)
    if budget.errors > budget.errors_max:
        raise TooComplex(f"it found more than {budget.errors_max:,} validation errors (counting those inside anyOf)")
    if budget.text > budget.text_max:
        raise TooComplex(
            f"its error messages, each quoting the value it is about, grew past {budget.text_max:,} characters"
        )


def active() -> bool:
    return _budget.get() is not None


# ---- wiring into jsonschema -----------------------------------------------------------------------------------


class _RegexModule:
    """Stands in for `re` in jsonschema's keyword modules, which only call `re.search(pattern, text)` and test the
    answer's truth (tests/unit/test_schema_patterns.py reads their source to keep it so)."""

    error = re.error

    def search(self, pattern: Any, string: Any, flags: int = 0) -> Any:
        if not active() or flags or not isinstance(pattern, str) or not isinstance(string, str):
            return re.search(pattern, string, flags)
        return True if search(pattern, string) else None

    def __getattr__(self, name: str) -> Any:
        if active():
            raise NotImplementedError(
                f"jsonschema called re.{name}, which taskboard.core.safe_regex does not route to RE2"
            )
        return getattr(re, name)


PATCHED_MODULES = ("jsonschema._keywords", "jsonschema._utils", "jsonschema._legacy_keywords")
_SHIM = _RegexModule()


@functools.cache
def install() -> None:
    """Route jsonschema's pattern matching through RE2 during checks (idempotent; jsonschema is imported here)."""
    import importlib

    for name in PATCHED_MODULES:
        module = importlib.import_module(name)
        if getattr(module, "re", None) is re:
            module.re = _SHIM  # type: ignore[attr-defined]


def format_checker(base: Any) -> Any:
    """A copy of jsonschema FormatChecker `base` whose `regex` format is "RE2 can run it" (the metaschemas ask
    it of every `pattern`; jsonschema's own compiles with `re`, which knows neither \\p{L} nor ECMA-262)."""
    from jsonschema import FormatChecker

    checker = FormatChecker(())
    checker.checkers = dict(base.checkers)

    def is_regex(instance: object) -> bool:
        if isinstance(instance, str):
            compiled(instance)
        return True

    checker.checks("regex", raises=PatternRefused)(is_regex)
    return checker
