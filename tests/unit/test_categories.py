"""The gig categories: the shipped list, the operator's replacement, and a broken list refused at start."""

from __future__ import annotations

import json

import pytest

from taskboard.gigs import categories as module
from taskboard.gigs.categories import CategoriesInvalid, parse

ONE = {"id": "cat_x", "name": "X", "slug": "x-things", "description": "", "icon": ""}


def test_the_shipped_list_holds_and_a_category_is_found_by_id_or_slug(monkeypatch: pytest.MonkeyPatch) -> None:
    shipped = parse(module.DEFAULT.read_text())
    assert [category.slug for category in shipped][:2] == ["coding", "writing"]
    module.categories.cache_clear()
    monkeypatch.setattr(module, "get_settings", lambda: type("S", (), {"categories_json": ""})())
    assert module.find("cat_coding") == module.find("coding") == module.find(" Coding ") == shipped[0]
    assert module.find("nothing-like-it") is None
    module.categories.cache_clear()


def test_the_operator_replaces_the_list_with_the_parameter(monkeypatch: pytest.MonkeyPatch) -> None:
    module.categories.cache_clear()
    own = json.dumps([ONE])
    monkeypatch.setattr(module, "get_settings", lambda: type("S", (), {"categories_json": own})())
    assert [category.slug for category in module.categories()] == ["x-things"]
    module.categories.cache_clear()


@pytest.mark.parametrize(
    "broken",
    [
        "[]",
        "not json",
        json.dumps([ONE, ONE]),  # one id twice
        json.dumps([ONE, {**ONE, "id": "cat_y"}]),  # one slug twice
        json.dumps([{**ONE, "slug": "Has Spaces"}]),
        json.dumps([{**ONE, "name": ""}]),
        json.dumps([{**ONE, "name": "n" * 81}]),
        json.dumps([{**ONE, "color": "red"}]),  # an unknown field is a typo, not ignored
        json.dumps([{**ONE, "id": f"cat_{n}", "slug": f"s{n}"} for n in range(101)]),
    ],
)
def test_a_broken_list_is_refused_not_served(broken: str) -> None:
    with pytest.raises(CategoriesInvalid):
        parse(broken)
