"""output_schema patterns run on RE2 (taskboard.core.safe_regex): catastrophic patterns answer at once with the right
verdict, wherever they sit in a schema and whatever its draft; what RE2 cannot run is refused when the task is
posted; the patterns people write keep the answers they had under Python's `re`."""

from __future__ import annotations

import importlib
import importlib.util
import inspect
import pathlib
import pkgutil
import re
import time
from datetime import timedelta
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from taskboard.core import safe_regex
from taskboard.core.errors import InvalidOutputSchema, ResultTooComplex
from taskboard.core.schema_check import check_output_schema, result_errors, schema_patterns

DRAFTS = {
    "4": "http://json-schema.org/draft-04/schema#",
    "6": "http://json-schema.org/draft-06/schema#",
    "7": "http://json-schema.org/draft-07/schema#",
    "2019-09": "https://json-schema.org/draft/2019-09/schema",
    "2020-12": "https://json-schema.org/draft/2020-12/schema",
}
# Under Python's re each of these takes exponential (or high polynomial) time on the `evil` text; under RE2,
# microseconds. `good` matches.
CATASTROPHIC = {
    "nested quantifier": (r"^(a+)+$", "a" * 5_000 + "!", "a" * 5_000),
    "alternation overlap": (r"^(a|a)*$", "a" * 5_000 + "!", "a" * 5_000),
    "overlapping alternatives": (r"^(a|aa)+$", "a" * 5_000 + "b", "aaaa"),
    "words and spaces": (r"^(\w+\s?)*$", "word " * 1_000 + "!", "a few words"),
    "adjacent overlaps": (r"^(x+x+)+y$", "x" * 5_000, "xxxy"),
    "nested groups": (r"^(([a-z])+.)+[A-Z]([a-z])+$", "a" * 5_000 + "!", "ab.Cd"),
    "polynomial": (r"(.*a){12}", "a" * 11 + "b" * 5_000, "a" * 12),
    "email": (
        r"^([a-zA-Z0-9])(([\-.]|[_]+)?([a-zA-Z0-9]+))*(@){1}[a-z0-9]+[.]{1}(([a-z]{2,3})|([a-z]{2,3}[.]{1}[a-z]{2,3}))$",
        "a" * 5_000 + "@",
        "ab.cd@example.com",
    ),
}
BOUND = 0.5  # seconds; RE2 answers these in well under a millisecond


def _placed(where: str, pattern: str, draft: str) -> tuple[dict[str, Any], Any, bool]:
    """A schema holding `pattern` in `where`, a function from a text to the instance that puts the text there,
    and whether that instance is valid when the pattern matches (it is not when it does not, and the reverse)."""
    defs = "definitions" if draft in ("4", "6", "7") else "$defs"
    placements: dict[str, tuple[dict[str, Any], Any, bool]] = {
        "pattern": ({"type": "string", "pattern": pattern}, lambda text: text, True),
        "patternProperties": (  # a key that matches must hold null
            {"type": "object", "patternProperties": {pattern: {"type": "null"}}},
            lambda text: {text: 1},
            False,
        ),
        "additionalProperties": (  # the keys' union is one pattern there
            {"type": "object", "patternProperties": {pattern: {}, "^z$": {}}, "additionalProperties": False},
            lambda text: {text: 1},
            True,
        ),
        "$ref to definitions": (
            {defs: {"code": {"type": "string", "pattern": pattern}}, "items": {"$ref": f"#/{defs}/code"}},
            lambda text: [text],
            True,
        ),
        "nested in allOf and items": (
            {"allOf": [{"type": "array", "items": {"properties": {"v": {"pattern": pattern}}}}]},
            lambda text: [{"v": text}],
            True,
        ),
        "propertyNames": ({"propertyNames": {"pattern": pattern}}, lambda text: {text: 1}, True),
        "unevaluatedProperties": (
            {"patternProperties": {pattern: {}}, "unevaluatedProperties": False},
            lambda text: {text: 1},
            True,
        ),
    }
    schema, instance, valid_when_matching = placements[where]
    return {"$schema": DRAFTS[draft], **schema}, instance, valid_when_matching


PLACES = [
    "pattern",
    "patternProperties",
    "additionalProperties",
    "$ref to definitions",
    "nested in allOf and items",
    "propertyNames",
    "unevaluatedProperties",
]


def _exists(where: str, draft: str) -> bool:
    if where == "propertyNames":
        return draft != "4"
    if where == "unevaluatedProperties":
        return draft in ("2019-09", "2020-12")
    return True


WHERE_AND_DRAFT = [(where, draft) for where in PLACES for draft in DRAFTS if _exists(where, draft)]


@pytest.mark.parametrize(("where", "draft"), WHERE_AND_DRAFT)
@pytest.mark.parametrize("name", CATASTROPHIC)
def test_catastrophic_patterns_answer_at_once_with_the_right_verdict(name: str, where: str, draft: str) -> None:
    pattern, evil, good = CATASTROPHIC[name]
    schema, instance, valid_when_matching = _placed(where, pattern, draft)
    check_output_schema(schema)
    for text, matches in ((evil, False), (good, True)):
        started = time.monotonic()
        errors = result_errors(schema, instance(text))
        elapsed = time.monotonic() - started
        assert elapsed < BOUND, f"{name} in {where}, draft {draft}: {elapsed:.3f} s"
        assert (errors == []) is (matches is valid_when_matching), (text[:20], errors)


def test_the_reported_cases_answer_in_milliseconds() -> None:
    """Issue 13: 53.8 s for the first (doubling per character), 3.6 s for the second."""
    for schema, result in (
        ({"type": "string", "pattern": "^(a+)+$"}, "a" * 30 + "!"),
        ({"type": "object", "patternProperties": {"^(a|a)*$": {"type": "integer"}}}, {"a" * 24 + "!": "x"}),
        ({"type": "string", "pattern": "^(a+)+$"}, "a" * 100_000 + "!"),
    ):
        check_output_schema(schema)
        started = time.monotonic()
        result_errors(schema, result)
        assert time.monotonic() - started < 0.1


_SHORT = st.text(alphabet="ab x!", max_size=12)


@settings(max_examples=300, deadline=timedelta(milliseconds=int(BOUND * 1000)))
@given(name=st.sampled_from(sorted(CATASTROPHIC)), text=_SHORT, repeat=st.integers(0, 3_000))
def test_any_text_gets_python_re_s_verdict_in_bounded_time(name: str, text: str, repeat: int) -> None:
    """The verdict is Python re's on short texts (where re answers at once), and every text, long and short, is
    answered within the bound: the deadline is hypothesis's own, per example."""
    pattern = CATASTROPHIC[name][0]
    schema = {"type": "string", "pattern": pattern}
    if len(text) <= 12 and repeat == 0:
        assert (result_errors(schema, text) == []) is (re.search(pattern, text) is not None)
    long_text = "a" * repeat + text
    result_errors(schema, long_text)


@settings(max_examples=200, deadline=timedelta(milliseconds=int(BOUND * 1000)))
@given(pattern=st.from_regex(r"\A[ab()|*+?]{1,12}\Z"), text=_SHORT)
def test_random_small_patterns_agree_with_python_re(pattern: str, text: str) -> None:
    """Over random patterns of groups, alternation and quantifiers: RE2 says what re says, when both compile."""
    try:
        re.compile(pattern)
    except re.error:
        return
    try:
        safe_regex.compiled(pattern)
    except safe_regex.PatternRefused:
        return  # e.g. `a**`, which re reads as a possessive-free repeat of a repeat and RE2 refuses
    assert safe_regex.search(pattern, text) is (re.search(pattern, text) is not None), (pattern, text)


# ---- refused at post time -------------------------------------------------------------------------------------

UNSUPPORTED = {
    r"^(?=.*\d)\w+$": "lookahead or lookbehind",
    r"^(?!admin$)\w+$": "lookahead or lookbehind",
    r"(?<=\$)\d+": "lookahead or lookbehind",
    r"(?<!-)\d+": "lookahead or lookbehind",
    r"^(a)\1$": "backreference",
    r"^(?<q>['\"]).*\k<q>$": "backreference",
    r"(?P<x>a)(?P=x)": "backreference",
    r"a{1001}": "repeats more than RE2 allows",
    r"(a{100}){100}": "repeats more than RE2 allows",
    r"^[\p{L} .'-]{1,100}$": "too large for RE2",
    "\\": "lone backslash",
    r"\uD800": "lone UTF-16 surrogate",
    r"(unclosed": "not a pattern RE2 accepts",
    r"\Qa.b\E": "not ECMA-262 syntax",
}


@pytest.mark.parametrize(("where", "draft"), WHERE_AND_DRAFT)
@pytest.mark.parametrize("pattern", UNSUPPORTED)
def test_patterns_re2_cannot_run_are_refused_naming_them(pattern: str, where: str, draft: str) -> None:
    schema, _, _ = _placed(where, pattern, draft)
    with pytest.raises(InvalidOutputSchema) as refused:
        check_output_schema(schema)
    message = refused.value.message
    assert UNSUPPORTED[pattern] in message
    assert safe_regex.quote(pattern) in message
    (location,) = refused.value.extra["locations"]
    assert location in message and location.startswith("/")
    assert refused.value.status == 400 and refused.value.code == "invalid_output_schema"


def test_the_message_says_where_and_why() -> None:
    with pytest.raises(InvalidOutputSchema) as refused:
        check_output_schema({"properties": {"code": {"type": "string", "pattern": "^(?=.*[0-9])[a-z0-9]+$"}}})
    assert refused.value.message == (
        "output_schema's pattern at /properties/code/pattern, '^(?=.*[0-9])[a-z0-9]+$', uses lookahead or "
        "lookbehind ((?=, (?!, (?<=, (?<!). Patterns run on RE2, which takes time linear in the text whatever the "
        "pattern: it has no lookaround or backreferences, which need backtracking."
    )
    assert refused.value.extra == {"locations": ["/properties/code/pattern"]}


def test_a_pattern_key_is_located_by_its_escaped_pointer() -> None:
    with pytest.raises(InvalidOutputSchema) as refused:
        check_output_schema({"patternProperties": {"^a/b~(?!c)": {}}})
    assert refused.value.extra["locations"] == ["/patternProperties/^a~1b~0(?!c)"]


def test_patterns_are_found_wherever_a_validator_could_reach_them() -> None:
    schema = {
        "properties": {"pattern": {"type": "string"}, "default": {"pattern": "p1"}},
        "const": {"pattern": "(?=data)"},
        "enum": [{"pattern": "(?=data)"}],
        "examples": [{"pattern": "(?=data)"}],
        "default": {"kept": {"pattern": "p2"}},
        "$ref": "#/default/kept",
        "x-vendor": {"pattern": "p3"},
        "patternProperties": {"k1": {}, "k2": {"pattern": "p4"}},
        "additionalProperties": False,
    }
    found = {pattern for _, pattern in schema_patterns(schema)}
    assert found == {"p1", "p2", "p3", "p4", "k1", "k2", "k1|k2"}


def test_data_that_looks_like_a_pattern_is_not_refused() -> None:
    check_output_schema({"const": {"pattern": "(?=x)"}, "enum": [{"pattern": "(?=x)"}], "default": {"pattern": "\\1"}})


def test_a_ref_into_data_is_checked_as_the_schema_it_becomes() -> None:
    with pytest.raises(InvalidOutputSchema) as refused:
        check_output_schema({"$ref": "#/default", "default": {"pattern": "(?=x)"}})
    assert refused.value.extra["locations"] == ["/default/pattern"]


def test_the_metaschema_checks_regex_with_re2() -> None:
    """The metaschemas ask `format: regex` of every pattern; that check runs on RE2 too (jsonschema's own used
    Python's re: \\p{L} was refused and lookahead accepted)."""
    from jsonschema import Draft202012Validator

    checker = safe_regex.format_checker(Draft202012Validator.FORMAT_CHECKER)
    assert checker.conforms(r"^\p{L}+$", "regex")
    assert not checker.conforms(r"(?=a)", "regex")
    assert checker.conforms("date-x", "date") is False  # the draft's other formats are kept


def test_too_many_or_too_large_patterns_are_refused() -> None:
    many = {"anyOf": [{"pattern": f"^x{i}$"} for i in range(safe_regex.PATTERNS_MAX + 1)]}
    with pytest.raises(InvalidOutputSchema, match="different patterns"):
        check_output_schema(many)
    check_output_schema({"anyOf": [{"pattern": f"^x{i}$"} for i in range(safe_regex.PATTERNS_MAX)]})
    large = {"anyOf": [{"pattern": f"^{i}.{{1,255}}$"} for i in range(10)]}  # ~6,400 instructions each
    with pytest.raises(InvalidOutputSchema, match="RE2 instructions together"):
        check_output_schema(large)


def test_one_search_too_big_to_bound_is_refused_before_it_starts() -> None:
    schema = {"pattern": "a[ab]{1000}c"}  # RE2's NFA worst case: ~1,000 threads at every byte
    check_output_schema(schema)
    started = time.monotonic()
    with pytest.raises(ResultTooComplex, match="1006 RE2 instructions"):
        result_errors(schema, "ab" * 50_000)
    assert time.monotonic() - started < 0.1
    assert result_errors(schema, "ab" * 1_000) != []  # 2 KB: well inside the bound, answered


def test_a_stored_schema_re2_cannot_run_fails_cleanly_at_delivery() -> None:
    """A task posted before patterns were checked: the delivery gets the reason, never Python's re."""
    errors = result_errors({"pattern": "^(?=a)(a+)+$"}, "a" * 40 + "!")
    assert errors == [
        "output_schema could not be applied: its pattern '^(?=a)(a+)+$' uses lookahead or lookbehind "
        "((?=, (?!, (?<=, (?<!)"
    ]


# ---- the patterns people write: the same answers as before ----------------------------------------------------

# (pattern, texts) checked against Python's re, which ran them before: texts avoid the documented differences
# (non-ASCII digits and letters for \d and \w, a final newline before $, \r for ., Unicode spaces for \s).
EVERYDAY = [
    (r"^[a-z0-9-]+$", ["my-slug-1", "My-Slug", "", "a_b", "slug!"]),
    (r"\d{5}", ["90210", "zip 90210-1234", "9021", "abcde"]),
    (r"^\d{5}(-\d{4})?$", ["90210", "90210-1234", "90210-12", "9021a"]),
    (r"^[A-Z]{2}$", ["US", "us", "USA", "U"]),
    (r"^[^@\s]+@[^@\s]+\.[a-z]{2,}$", ["ada@example.com", "ada@example", "a da@example.com", "@x.io"]),
    (r"^https?://", ["https://example.com", "http://x", "ftp://x", "xhttps://"]),
    (
        r"^[0-9a-f]{8}-[0-9a-f]{4}-[1-5][0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$",
        ["123e4567-e89b-12d3-a456-426614174000", "123e4567-e89b-62d3-a456-426614174000", "nope"],
    ),
    (r"^\+?[1-9]\d{1,14}$", ["+14155552671", "014155552671", "+1", "+1415555267100000"]),
    (r"^(?:[01]\d|2[0-3]):[0-5]\d$", ["09:30", "23:59", "24:00", "9:30"]),
    (r"^#?([A-Fa-f0-9]{6}|[A-Fa-f0-9]{3})$", ["#a1b2c3", "fff", "#ffff", "#ggg"]),
    (r"\bcat\b", ["a cat here", "concat", "cat", "cats"]),
    (r"^[\w.-]+$", ["file_name-1.txt", "with space", "a/b"]),
    (r"^\S+$", ["nospace", "has space", "tab\there", ""]),
    (r"^\s*$", ["", "   ", "\t\n", " x "]),
    (r"(?i)^yes$", ["yes", "YES", "Yes", "yess"]),
    (r"^[\u00C0-\u017F]+$", ["éàü", "abc", "Ōœ"]),
    (r"^\u00e9t\u00e9$", ["été", "ete"]),
    (r"^[^\u0000-\u001F]*$", ["clean text", "bell\u0007", ""]),
    (r"^\x41+$", ["AAA", "aaa"]),
    (r"^\/api\/v\d+\/", ["/api/v2/tasks", "/api/vx/", "api/v1/"]),
    (r"a{2,}", ["aa", "a", "baaab"]),
    (r"^(?P<year>\d{4})-(?P<month>\d\d)$", ["2024-05", "24-05"]),
    (r"^[A-Za-z]+(?: [A-Za-z]+)*$", ["Ada Lovelace", "Ada  Lovelace", " Ada"]),
    (r"^\d+(\.\d{1,2})?$", ["10", "10.5", "10.555", ".5"]),
    (r"^[^<>]*$", ["plain", "<b>bold</b>"]),
    (r"^\[.*\]$", ["[1, 2]", "[open", "x[1]"]),
    (r"^[\]\[a-c-]+$", ["[a]-", "d"]),
    (r"^.{3,8}$", ["abc", "abcdefgh", "ab", "abcdefghi", "naïve"]),
    (r"^\w+@\w+\.com$", ["ada@lovelace.com", "ada@lovelace.org"]),
    (r"^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z$", ["2024-05-01T10:00:00Z", "2024-05-01 10:00:00"]),
    (r"^[a-z]+\z", ["abc", "abc1"]),
    (r"^[a-z]+\Z", ["abc", "abc1"]),
]


@pytest.mark.parametrize(("pattern", "texts"), EVERYDAY, ids=[pattern for pattern, _ in EVERYDAY])
def test_everyday_patterns_keep_their_answers(pattern: str, texts: list[str]) -> None:
    schema = {"type": "string", "pattern": pattern}
    check_output_schema(schema)
    python = pattern.replace(r"\z", r"\Z")  # Python spells the end of text \Z
    for text in texts:
        assert (result_errors(schema, text) == []) is (re.search(python, text) is not None), (pattern, text)


@pytest.mark.parametrize("draft", DRAFTS)
def test_everyday_patterns_in_every_draft_and_as_keys(draft: str) -> None:
    schema = {
        "$schema": DRAFTS[draft],
        "type": "object",
        "properties": {"zip": {"type": "string", "pattern": r"^\d{5}$"}},
        "patternProperties": {r"^x-[a-z-]+$": {"type": "string"}},
        "additionalProperties": False,
    }
    check_output_schema(schema)
    assert result_errors(schema, {"zip": "90210", "x-note": "ok"}) == []
    assert result_errors(schema, {"zip": "9021", "x-note": 1, "other": 2}) == [
        "must not have additional properties ('other' does not match any of the regexes: '^x-[a-z-]+$')",
        "/x-note must be string",
        "/zip '9021' does not match '^\\\\d{5}$'",
    ]


# Python's re refused \p{...} (the task could not be posted); RE2 knows Unicode categories and scripts.
UNICODE = [
    (r"^\p{L}+$", {"héllo": True, "日本語": True, "abc1": False, "": False}),
    (r"^\p{Lu}", {"Ärger": True, "ärger": False}),
    (r"^\p{Greek}+$", {"αβγ": True, "abc": False}),
    (r"^\p{Script=Greek}+$", {"αβγ": True, "abc": False}),
    (r"^\p{sc=Cyrillic}+$", {"да": True, "da": False}),
    (r"^\p{Letter}+$", {"héllo": True, "h3llo": False}),
    (r"^\p{General_Category=Decimal_Number}+$", {"123": True, "٣": True, "x": False}),
    (r"^\P{L}+$", {"123 !": True, "a": False}),
    (r"^[\p{L}\p{N} ]+$", {"Ada 1815": True, "Ada!": False}),
    (r"^\u{1F600}$", {"😀": True, "x": False}),
    (r"^\uD83D\uDE00$", {"😀": True}),
    (r"^.$", {"😀": True, "ab": False}),
    (r"^\cJ$", {"\n": True, "J": False}),
    (r"^[]$", {"": False, "a": False}),
    (r"^[^]$", {"\n": True, "a": True, "": False}),
    (r"^(?<word>\w+)$", {"named": True, "two words": False}),
]


@pytest.mark.parametrize(("pattern", "answers"), UNICODE, ids=[pattern for pattern, _ in UNICODE])
def test_unicode_classes_and_ecma_escapes_re2_accepts(pattern: str, answers: dict[str, bool]) -> None:
    schema = {"type": "string", "pattern": pattern}
    check_output_schema(schema)
    for text, valid in answers.items():
        assert (result_errors(schema, text) == []) is valid, (pattern, text)


# Where Python's re answered differently from ECMA-262, the answer is now ECMA-262's (what a worker checking its
# result with JavaScript's ajv before delivering gets, and what the JSON Schema test suite asks).
ECMA_NOT_PYTHON = [
    (r"^\d+$", "٣٤", False),  # \d is [0-9]
    (r"^\w+$", "é", False),  # \w is [A-Za-z0-9_]
    (r"^[a-z]+$", "abc\n", False),  # $ is the end of the text, not before a final newline
    (r"^.$", "\r", False),  # . stops at every line terminator
    (r"^.$", "\u2028", False),
    (r"^\s$", "\u00a0", True),  # \s is Unicode whitespace, BOM included
    (r"^\s$", "\ufeff", True),
    (r"^\S$", "\ufeff", False),
    (r"^\s$", "\x1c", False),  # Python's \s took the information separators
    (r"^a{,2}$", "a{,2}", True),  # {,n} is not a quantifier
    (r"^[[:alpha:]]$", "[:alpha:]", False),  # no POSIX classes: a class of [ : a l p h, then ]
    (r"^[[:alpha:]]$", "a]", True),
]


@pytest.mark.parametrize(("pattern", "text", "valid"), ECMA_NOT_PYTHON)
def test_where_python_and_ecma_262_differ_the_answer_is_ecma_262_s(pattern: str, text: str, valid: bool) -> None:
    assert (result_errors({"pattern": pattern}, text) == []) is valid


def test_translation() -> None:
    assert safe_regex.translate(r"^\u00e9\u{1F600}\uD83D\uDE00$") == r"^\x{E9}\x{1F600}\x{1F600}$"
    assert safe_regex.translate(r"[\s\d]") == "[" + safe_regex._ECMA_SPACE + r"\d]"
    assert safe_regex.translate(r"\\s") == r"\\s"  # an escaped backslash, then s
    assert safe_regex.translate(r"[.]\.") == r"[.]\."
    assert safe_regex.translate(r"\cA[\b]") == r"\x{01}[\x08]"
    assert safe_regex.translate(r"[[]") == r"[\[]"
    assert safe_regex.translate(r"\p{gc=Lu}\P{Script=Han}") == r"\p{Lu}\P{Han}"


def test_lone_surrogates_in_a_text_do_not_break_a_search() -> None:
    assert safe_regex.search("^a", "a\ud800") is True


# ---- the wiring into jsonschema -------------------------------------------------------------------------------


def test_jsonschema_only_searches_in_the_modules_routed_to_re2() -> None:
    """jsonschema's keyword modules call `re.search(pattern, text)` and test its truth, and nothing else of `re`;
    no other module of it runs a schema's pattern but _format's `regex` (replaced in the post-time check). An
    upgrade that calls re.match or re.compile on a pattern fails here, not in production."""
    import jsonschema

    safe_regex.install()
    for name in safe_regex.PATCHED_MODULES:
        module = importlib.import_module(name)
        assert module.re is safe_regex._SHIM, name
        uses = set(re.findall(r"\bre\.(\w+)", inspect.getsource(module)))
        assert uses <= {"search"}, (name, uses)
    calls = re.compile(r"\bre\.(?:search|match|fullmatch|compile|findall|finditer|sub|subn|split)\(([^)]*)\)")
    for info in pkgutil.iter_modules(jsonschema.__path__):
        name = f"jsonschema.{info.name}"
        if info.ispkg or name in safe_regex.PATCHED_MODULES or info.name.startswith(("_test", "__")):
            continue
        spec = importlib.util.find_spec(name)
        assert spec is not None and spec.origin is not None
        found = calls.findall(pathlib.Path(spec.origin).read_text())  # read, not imported (the CLI warns)
        unsafe = [argument for argument in found if not argument.startswith(('r"', "'", '"'))]
        assert unsafe == (["instance"] if info.name == "_format" else []), (name, unsafe)


def test_other_users_of_jsonschema_keep_python_re() -> None:
    from jsonschema import Draft202012Validator

    safe_regex.install()
    assert Draft202012Validator({"pattern": "^(?=a)a"}).is_valid("a")  # outside a board check: Python's re
    with pytest.raises(NotImplementedError), safe_regex.deadline(1):
        importlib.import_module("jsonschema._keywords").re.match("a", "a")
