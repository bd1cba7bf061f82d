"""The API reference page (local/docs_page.py): every operation, nothing unescaped, nothing from elsewhere."""

from __future__ import annotations

import base64
import copy
import hashlib
import html
import json
import re
from typing import Any

import pytest

from local.docs_page import render_html
from local.openapi import OPENAPI_FILE

DOCUMENT: dict[str, Any] = json.loads(OPENAPI_FILE.read_text())
METHODS = {"get", "put", "post", "patch", "delete", "head", "options", "trace"}

# An absolute or protocol-relative URL where a browser would fetch it: src=, href=, url( ), @import.
EXTERNAL = re.compile(
    r"""(?:\b(?:src|href|srcset|action|poster|data)\s*=\s*["']?\s*|url\(\s*["']?\s*|@import\s+(?:url\()?\s*["']?\s*)"""
    r"(?:[a-z][a-z0-9+.-]*:)?//",
    re.IGNORECASE,
)


def operations(document: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (method, path, operation)
        for path, item in document["paths"].items()
        for method, operation in item.items()
        if method in METHODS
    ]


@pytest.fixture(scope="module")
def page() -> str:
    return render_html(copy.deepcopy(DOCUMENT))


def test_every_operation_has_its_anchor_path_and_summary(page: str) -> None:
    found = operations(DOCUMENT)
    assert len(found) >= 40
    for method, path, operation in found:
        anchor = operation["operationId"]
        assert f'<section class="op" id="{anchor}"' in page, anchor
        assert f'href="#{anchor}"' in page, anchor  # the table of contents links to it
        section = page.split(f'<section class="op" id="{anchor}"', 1)[1].split("</section>", 1)[0]
        assert f'<code class="path">{html.escape(path)}</code>' in section, path
        assert f">{method.upper()}</span>" in section
        assert html.escape(operation["summary"]) in section, anchor
        if operation["security"] == []:
            assert "badge-public" in section, anchor
        else:
            assert "badge-key" in section or "badge-optional" in section, anchor


def test_the_page_shows_authentication_tags_and_every_schema(page: str) -> None:
    assert '<section id="authentication">' in page
    assert "<code>x-api-key: KEY</code>" in page and "<code>Authorization: Bearer KEY</code>" in page
    for tag in {operation["tags"][0] for _, _, operation in operations(DOCUMENT)}:
        assert f'<section id="tag-{tag}" data-group>' in page, tag
    for name in DOCUMENT["components"]["schemas"]:
        assert f'<section class="schema" id="schema-{name}">' in page, name
    assert html.escape(DOCUMENT["info"]["title"]) in page and html.escape(DOCUMENT["info"]["summary"]) in page


def test_parameters_show_constraints_and_request_bodies_their_fields(page: str) -> None:
    section = page.split('<section class="op" id="listTasks"', 1)[1].split("</section>", 1)[0]
    assert "<code>limit</code>" in section and "1&ndash;100" in section and "default <code>20</code>" in section
    assert "one of <code>&quot;open&quot;</code>" in section
    claim = page.split('<section class="op" id="createTask"', 1)[1].split("</section>", 1)[0]
    assert "<h4>Request body" in claim and "<code>title</code>" in claim and "length 1&ndash;200" in claim
    assert "No other fields are accepted." in claim


def test_the_page_loads_nothing_from_anywhere_else(page: str) -> None:
    assert EXTERNAL.findall(page) == []
    assert EXTERNAL.findall('<link href="https://cdn.example/x.css"><img src=//x.example/p.png>')  # the check works
    assert '<link rel="stylesheet"' not in page and "<script src" not in page
    csp = re.search(r'<meta http-equiv="Content-Security-Policy" content="([^"]+)">', page)
    assert csp is not None and "default-src 'none'" in csp.group(1)
    # the inline style and script are allowed by their hashes, and nothing else is
    for tag, directive in (("style", "style-src"), ("script", "script-src")):
        (body,) = re.findall(rf"<{tag}>(.*?)</{tag}>", page, re.DOTALL)
        digest = base64.b64encode(hashlib.sha256(body.encode()).digest()).decode()
        assert f"{directive} 'sha256-{digest}'" in csp.group(1), tag


def test_the_output_is_deterministic_ascii_and_the_committed_page_is_current(page: str) -> None:
    assert render_html(copy.deepcopy(DOCUMENT)) == page
    assert page.isascii()
    assert (OPENAPI_FILE.parent.parent / "functions" / "api_docs" / "index.html").read_text() == page


HOSTILE = '<script>alert("x")</script>'


def hostile_document() -> dict[str, Any]:
    """Every string a document may carry, made of markup."""
    field = {"type": "string", "description": HOSTILE, "enum": [HOSTILE], "default": HOSTILE, "pattern": HOSTILE}
    return {
        "openapi": "3.1.0",
        "info": {"title": HOSTILE, "summary": HOSTILE, "description": HOSTILE, "version": HOSTILE},
        "servers": [{"url": HOSTILE}],
        "tags": [{"name": HOSTILE, "description": HOSTILE}],
        "paths": {
            f"/x/{HOSTILE}": {
                "post": {
                    "operationId": f'a" onmouseover="{HOSTILE}',
                    "summary": HOSTILE,
                    "description": f"`{HOSTILE}` **{HOSTILE}**",
                    "tags": [HOSTILE],
                    "security": [{HOSTILE: []}],
                    "parameters": [{"name": HOSTILE, "in": HOSTILE, "description": HOSTILE, "schema": field}],
                    "requestBody": {
                        "content": {
                            HOSTILE: {
                                "schema": {"$ref": f"#/components/schemas/{HOSTILE}"},
                                "examples": {HOSTILE: {"summary": HOSTILE, "value": {HOSTILE: f"</pre>{HOSTILE}"}}},
                            }
                        }
                    },
                    "responses": {HOSTILE: {"description": HOSTILE, "headers": {HOSTILE: {}}}},
                }
            }
        },
        "components": {
            "schemas": {HOSTILE: {"type": "object", "properties": {HOSTILE: field}, "required": [HOSTILE]}},
            "securitySchemes": {HOSTILE: {"type": "apiKey", "in": "header", "name": HOSTILE, "description": HOSTILE}},
        },
    }


def test_every_string_of_the_document_is_escaped() -> None:
    page = render_html(hostile_document())
    assert "<script>alert" not in page
    assert page.count("<script>") == 1  # the page's own filter script
    assert 'onmouseover="' not in page
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in page
    assert "<code>&lt;script&gt;" in page  # `code` in a description still renders as code, escaped


def test_recursive_and_composed_schemas_render_without_looping() -> None:
    document = {
        "openapi": "3.1.0",
        "info": {"title": "Trees", "version": "1"},
        "paths": {
            "/nodes": {
                "post": {
                    "operationId": "createNode",
                    "summary": "Make a node",
                    "requestBody": {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/Node"}}}},
                    "responses": {
                        "201": {
                            "description": "Made",
                            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Node"}}},
                        }
                    },
                }
            },
            "/loops": {
                "get": {
                    "responses": {
                        "200": {
                            "description": "ok",
                            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Alias"}}},
                        }
                    }
                }
            },
        },
        "components": {
            "schemas": {
                "Node": {
                    "type": "object",
                    "properties": {
                        "name": {"type": "string", "minLength": 1},
                        "children": {"type": "array", "items": {"$ref": "#/components/schemas/Node"}},
                        "parent": {"anyOf": [{"$ref": "#/components/schemas/Node"}, {"type": "null"}]},
                        "meta": {"$ref": "#/components/schemas/Meta"},
                    },
                    "required": ["name"],
                },
                "Meta": {"type": "object", "properties": {"owner": {"$ref": "#/components/schemas/Node"}}},
                "A": {"allOf": [{"$ref": "#/components/schemas/B"}, {"properties": {"a": {"type": "integer"}}}]},
                "B": {"allOf": [{"$ref": "#/components/schemas/A"}, {"properties": {"b": {"type": "integer"}}}]},
                "Alias": {"$ref": "#/components/schemas/Other"},
                "Other": {"$ref": "#/components/schemas/Alias"},
            }
        },
    }
    page = render_html(document)
    body = page.split('<section class="op" id="createNode"', 1)[1].split("</section>", 1)[0]
    assert 'array of <a href="#schema-Node">Node</a>' in body
    assert '<a href="#schema-Node">Node</a> | null' in body
    assert "Fields of Meta" in body  # Meta opens once; its owner (a Node, open above it) is only a link
    assert "Fields of Node" not in body
    assert '<section class="schema" id="schema-A">' in page and "<code>b</code>" in page
    assert 'id="get-loops"' in page  # no operationId: an anchor from method and path


def test_generic_documents_render_what_they_have() -> None:
    assert "<h1>API reference</h1>" in render_html({})
    document = {
        "openapi": "3.1.0",
        "info": {"title": "Things", "version": "2"},
        "security": [{"token": []}],
        "paths": {
            "/things/{thing_id}": {
                "parameters": [{"$ref": "#/components/parameters/ThingId"}],
                "get": {"operationId": "same", "responses": {"204": {"description": "Nothing"}}},
                "put": {
                    "operationId": "same",
                    "security": [],
                    "requestBody": {
                        "required": True,
                        "content": {
                            "application/json": {
                                "schema": {
                                    "type": "object",
                                    "properties": {
                                        "kind": {"const": "thing"},
                                        "tags": {"type": "object", "additionalProperties": {"type": "integer"}},
                                        "note": {"type": ["string", "null"], "format": "email", "examples": ["a@b.c"]},
                                        "size": {"type": "number", "exclusiveMinimum": 0, "multipleOf": 0.5},
                                    },
                                    "additionalProperties": {"type": "string"},
                                },
                                "example": {"kind": "thing"},
                            }
                        },
                    },
                    "responses": {
                        "200": {
                            "description": "Saved",
                            "content": {
                                "application/json": {
                                    "schema": {"type": "object", "properties": {"inline": {"type": "boolean"}}}
                                }
                            },
                        }
                    },
                },
            }
        },
        "components": {
            "parameters": {
                "ThingId": {
                    "name": "thing_id",
                    "in": "path",
                    "required": True,
                    "schema": {"type": "string", "pattern": "^t_[0-9]+$", "maxLength": 20},
                }
            },
            "securitySchemes": {"token": {"type": "http", "scheme": "bearer"}},
        },
    }
    page = render_html(document)
    assert 'id="same"' in page and 'id="same-2"' in page  # anchors stay unique
    assert "<code>thing_id</code>" in page and "pattern <code>^t_[0-9]+$</code>" in page and "length &le; 20" in page
    assert '<span class="muted">no body</span>' in page  # a 204 without content
    assert "badge-key" in page and "public: no key" in page  # the document's security, and the override
    assert "const <code>&quot;thing&quot;</code>" in page and "map of integer" in page
    assert "string | null" in page and "format <code>&quot;email&quot;</code>" in page
    assert "&gt; 0" in page and "multiple of 0.5" in page and "Other fields: string" in page
    assert "<code>inline</code>" in page  # an inline response schema shows its fields
    assert "&quot;kind&quot;: &quot;thing&quot;" in page  # the media type's example, pretty-printed
