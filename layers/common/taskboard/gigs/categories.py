"""The gig categories: the operator's list, not code. The layer ships a default (categories.json beside this
module); a deployment replaces it with the template's `Categories` parameter (JSON, the same shape), which
reaches the functions as CATEGORIES_JSON, so an operator changes the set with a parameter, not a release. The
list is read once per container and checked: ids and slugs unique, slugs lower-case words, every field within
its limit. A gig names one category, by id or by slug."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Annotated

from pydantic import ConfigDict, Field, TypeAdapter, ValidationError

from taskboard.core.fields import ApiModel
from taskboard.core.settings import get_settings

DEFAULT = Path(__file__).with_name("categories.json")
CATEGORIES_MAX = 100


class Category(ApiModel):
    model_config = ConfigDict(extra="forbid")  # an unknown field in the operator's list is a typo: refused
    id: Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9_-]{1,39}$")]
    name: Annotated[str, Field(min_length=1, max_length=80)]
    slug: Annotated[str, Field(pattern=r"^[a-z0-9]+(?:-[a-z0-9]+)*$", max_length=40)]
    description: Annotated[str, Field(max_length=300)] = ""
    icon: Annotated[str, Field(max_length=40)] = ""


class CategoryList(ApiModel):
    categories: list[Category] = Field(description="Every category a gig may name, in the operator's order.")


class CategoriesInvalid(ValueError):
    """The operator's list does not hold: the functions refuse to start rather than serve a broken set."""


_LIST = TypeAdapter(list[Category])


def parse(text: str) -> tuple[Category, ...]:
    """The categories in `text` (a JSON array of objects), checked. Raises CategoriesInvalid."""
    try:
        found = _LIST.validate_json(text)
    except ValidationError as error:
        raise CategoriesInvalid(f"Categories: {error.errors()[0]['msg']} at {error.errors()[0]['loc']}") from None
    if not found or len(found) > CATEGORIES_MAX:
        raise CategoriesInvalid(f"Categories: between 1 and {CATEGORIES_MAX}, not {len(found)}")
    for field in ("id", "slug"):
        values = [getattr(category, field) for category in found]
        if len(set(values)) != len(values):
            raise CategoriesInvalid(f"Categories: two share one {field}")
    return tuple(found)


@lru_cache(maxsize=1)
def categories() -> tuple[Category, ...]:
    """The deployment's categories: CATEGORIES_JSON when the operator set one, else the shipped default."""
    configured = get_settings().categories_json.strip()
    return parse(configured or DEFAULT.read_text())


def find(reference: str) -> Category | None:
    """The category a gig names, by id or by slug (a slug case-insensitively)."""
    wanted = reference.strip()
    for category in categories():
        if wanted in (category.id, category.slug) or wanted.lower() == category.slug:
            return category
    return None
