"""The API reference page (GET /docs): one self-contained HTML file rendered from an OpenAPI 3.1 document.

Nothing is fetched from anywhere: the CSS and a small filter script are inline (and allowed by hash in the
page's Content-Security-Policy, which forbids every other source), and the page is complete without
JavaScript, since every operation is rendered here. Same document in, same bytes out; the output is ASCII
(anything else becomes a character reference), so it reads the same whatever encoding it is written with."""

from __future__ import annotations

import base64
import hashlib
import json
import re
from html import escape
from typing import Any

Schema = dict[str, Any]
Operation = tuple[str, str, str, Schema, Schema]  # anchor, method, path, operation, path item
METHODS = ("get", "put", "post", "patch", "delete", "head", "options", "trace")
NO_BODY = '<span class="muted">no body</span>'
MERGED = ("description", "additionalProperties", "type")  # what an allOf part lends the whole
NESTING = 4  # how deep request body fields expand into nested objects (each level a <details>)

CSS = """
:root{--bg:#fff;--fg:#1d2330;--muted:#5d6778;--line:#e3e7ee;--side:#f6f8fb;--code:#f1f3f7;--accent:#2457c5;
--get:#1f6feb;--post:#1a7f37;--put:#9a6700;--patch:#8250df;--delete:#cf222e;--other:#57606a}
@media (prefers-color-scheme:dark){:root{--bg:#12151b;--fg:#e3e7ee;--muted:#9aa4b5;--line:#2a303b;--side:#181c24;
--code:#1f242e;--accent:#7aa7ff;--get:#58a6ff;--post:#3fb950;--put:#d29922;--patch:#bc8cff;--delete:#ff7b72}}
*{box-sizing:border-box}[hidden]{display:none!important}html{scroll-behavior:smooth}
body{margin:0;background:var(--bg);color:var(--fg);font:15px/1.55 system-ui,-apple-system,"Segoe UI",Roboto,Arial,
sans-serif}a{color:var(--accent);text-decoration:none}a:hover{text-decoration:underline}
code,pre{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,"Liberation Mono",monospace;font-size:.88em}
code{background:var(--code);padding:.1em .35em;border-radius:4px;overflow-wrap:anywhere}
pre{background:var(--code);padding:.8em 1em;border-radius:6px;overflow:auto;line-height:1.4}pre code{padding:0}
.skip{position:absolute;left:-999px}.skip:focus{left:1rem;top:1rem;background:var(--bg);padding:.5rem}
.layout{display:grid;grid-template-columns:300px minmax(0,1fr)}nav{position:sticky;top:0;height:100vh;
overflow:auto;padding:1.2rem 1rem 3rem;background:var(--side);border-right:1px solid var(--line);font-size:14px}
nav ul{list-style:none;margin:0 0 .8rem;padding:0}nav li a{display:block;padding:.2rem .3rem;border-radius:4px;
color:var(--fg)}nav li a:hover{background:var(--line);text-decoration:none}.brand{font-weight:700;font-size:16px}
.group-title{margin:.9rem 0 .3rem;font-weight:600;text-transform:uppercase;font-size:12px;letter-spacing:.06em}
.group-title a{color:var(--muted)}#filter{width:100%;padding:.45rem .6rem;border:1px solid var(--line);
border-radius:6px;background:var(--bg);color:var(--fg);font:inherit;margin-bottom:.6rem}
main{padding:2rem 3rem 5rem;max-width:1150px}h1{margin:.2rem 0;font-size:2rem}h4{margin:1.2rem 0 .4rem}
h2{margin:2.5rem 0 1rem;padding-bottom:.3rem;border-bottom:1px solid var(--line);text-transform:capitalize}
h3{margin:0;font-size:1.1rem;display:flex;flex-wrap:wrap;gap:.5rem;align-items:center}
.lead{font-size:1.15rem}.muted,.meta,.note{color:var(--muted)}.note{font-size:.9em;margin:.3rem 0}
.op,.schema{border:1px solid var(--line);border-radius:8px;padding:1rem 1.2rem;margin:1.2rem 0;scroll-margin-top:1rem}
.path{font-size:1rem;background:none;padding:0}.summary{font-size:1.05rem;margin:.5rem 0 .2rem}
.m{display:inline-block;min-width:3.9em;text-align:center;font:700 11px/1.9 ui-monospace,Menlo,Consolas,monospace;
color:#fff;border-radius:4px;padding:0 .4em;background:var(--other)}.m-get{background:var(--get)}
.m-post{background:var(--post)}.m-put{background:var(--put)}.m-patch{background:var(--patch)}
.m-delete{background:var(--delete)}.badge{font-size:12px;font-weight:600;border-radius:999px;padding:.05rem .6rem;
border:1px solid currentColor}.badge-public{color:var(--post)}.badge-key{color:var(--put)}
.badge-optional{color:var(--get)}.badge-deprecated,.req{color:var(--delete)}.req{font-size:12px;margin-left:.3rem}
table{border-collapse:collapse;width:100%;margin:.4rem 0;font-size:14px}td:first-child code{white-space:nowrap}
th,td{text-align:left;vertical-align:top;padding:.4rem .5rem;border-bottom:1px solid var(--line)}
th{font-size:12px;text-transform:uppercase;letter-spacing:.04em;color:var(--muted)}td p{margin:0 0 .3rem}
tr.sub>td{padding:0 0 .4rem 1.2rem;border-bottom:none}details{margin:.3rem 0}
summary{cursor:pointer;color:var(--accent);font-size:13px}.example-title{font-weight:600;margin:.6rem 0 .2rem}
.status{font-weight:700;font-family:ui-monospace,Menlo,Consolas,monospace}.s2{color:var(--post)}
.s4,.s5{color:var(--delete)}dl dt{font-weight:600;margin-top:.6rem}dl dd{margin-left:1.2rem}
footer{margin-top:4rem;color:var(--muted);font-size:13px}
@media (max-width:860px){.layout{display:block}nav{position:static;height:auto}main{padding:1.2rem}
table{display:block;overflow-x:auto}}
"""

SCRIPT = """
(function () {
  var box = document.getElementById("filter"), all = document.querySelectorAll.bind(document);
  box.hidden = false;
  box.addEventListener("input", function () {
    var q = box.value.trim().toLowerCase();
    all("[data-search]").forEach(function (el) { el.hidden = q && el.dataset.search.indexOf(q) < 0; });
    all("[data-group]").forEach(function (g) { g.hidden = q && !g.querySelector("[data-search]:not([hidden])"); });
  });
})();
"""


def _dict(value: Any) -> Schema:
    return value if isinstance(value, dict) else {}


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _e(value: Any) -> str:
    return escape(str(value), quote=True)


def _json(value: Any) -> str:
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return json.dumps(value, ensure_ascii=False)


def _code(value: Any) -> str:
    return f"<code>{_e(_json(value))}</code>"


def _number(value: Any) -> str | None:
    return _e(_json(value)) if isinstance(value, int | float) and not isinstance(value, bool) else None


def _text(text: Any) -> str:
    """A description: paragraphs on blank lines, `code` and **bold** (everything else is escaped)."""
    if not isinstance(text, str) or not text.strip():
        return ""
    paragraphs = []
    for chunk in re.split(r"\n\s*\n", text.strip()):
        html = re.sub(r"`([^`]+)`", r"<code>\1</code>", _e(chunk))
        paragraphs.append("<p>" + re.sub(r"\*\*([^*]+)\*\*", r"<strong>\1</strong>", html) + "</p>")
    return "".join(paragraphs)


def _sha256(text: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(text.encode()).digest()).decode() + "'"


def _pointer(spec: Schema, ref: str) -> Any:
    node: Any = spec if ref.startswith("#/") else None
    for part in ref[2:].split("/"):
        node = _dict(node).get(part.replace("~1", "/").replace("~0", "~"))
    return node


def _resolve(spec: Schema, node: Any) -> tuple[str | None, Schema]:
    """Follow `$ref`s (to any `#/...` of the document): the last name on the way and the object found."""
    name = None
    for _ in range(16):
        if not isinstance(node, dict) or not isinstance(node.get("$ref"), str):
            return name, _dict(node)
        name = node["$ref"].rsplit("/", 1)[-1]
        node = _pointer(spec, node["$ref"])
    return name, {}  # a cycle of bare references


def _unwrap(schema: Schema) -> Schema:
    """`anyOf: [X, {type: null}]` (an optional field) as X."""
    for key in ("anyOf", "oneOf"):
        variants = _list(schema.get(key))
        rest = [v for v in variants if _dict(v).get("type") != "null"]
        if len(rest) == 1 < len(variants):
            return _dict(rest[0])
    return schema


def _merge(spec: Schema, schema: Schema, seen: frozenset[str]) -> Schema:
    """An `allOf` as one object schema: the parts' properties and required fields, then the schema's own."""
    if not isinstance(schema.get("allOf"), list):
        return schema
    merged: Schema = {k: v for k, v in schema.items() if k != "allOf"}
    properties: Schema = {}
    required: list[str] = []
    for part in schema["allOf"]:
        name, target = _resolve(spec, part)
        if name is None or name not in seen:
            target = _merge(spec, target, seen | {name} if name else seen)
            properties.update(_dict(target.get("properties")))
            required += [r for r in _list(target.get("required")) if r not in required]
            merged.update({k: v for k, v in target.items() if k in MERGED and k not in merged})
    merged["properties"] = {**properties, **_dict(schema.get("properties"))}
    merged["required"] = required + [r for r in _list(schema.get("required")) if r not in required]
    return merged


def _expandable(spec: Schema, schema: Any) -> tuple[str | None, Schema] | None:
    """The object whose fields describe `schema` (through optional, array items, `$ref`, `allOf`), if any."""
    base = _unwrap(_dict(schema))
    base = _unwrap(base["items"]) if isinstance(base.get("items"), dict) else base
    name, target = _resolve(spec, base)
    merged = _merge(spec, target, frozenset({name}) if name else frozenset())
    return (name, merged) if _dict(merged.get("properties")) else None


def _type(spec: Schema, schema: Any, depth: int = 0) -> str:
    """A short readable type: `string | null`, `array of <a>Task</a>`, `map of integer`, `const "x"`."""
    if not isinstance(schema, dict) or not schema or depth > 8:
        return "any"
    if isinstance(schema.get("$ref"), str):
        ref = schema["$ref"]
        name = _e(ref.rsplit("/", 1)[-1])
        known = ref.startswith("#/components/schemas/") and _pointer(spec, ref) is not None
        return f'<a href="#schema-{name}">{name}</a>' if known else name
    if "const" in schema:
        return "const " + _code(schema["const"])
    for key, joiner in (("anyOf", " | "), ("oneOf", " | "), ("allOf", " &amp; ")):
        if _list(schema.get(key)):
            return joiner.join(dict.fromkeys(_type(spec, v, depth + 1) for v in schema[key]))
    kind = schema.get("type")
    kinds = kind if isinstance(kind, list) else [kind] if isinstance(kind, str) else []
    kinds = kinds or (["object"] if "properties" in schema else ["array"] if "items" in schema else [])
    labels = []
    for kind in kinds:
        items, extra = schema.get("items"), schema.get("additionalProperties")
        if kind == "array" and isinstance(items, dict) and items:
            inner = _type(spec, items, depth + 1)
            labels.append(f"array of ({inner})" if " | " in inner else f"array of {inner}")
        elif kind == "object" and not schema.get("properties") and isinstance(extra, dict) and extra:
            labels.append("map of " + _type(spec, extra, depth + 1))
        else:
            labels.append(_e(kind))
    return " | ".join(labels) or ("enum" if "enum" in schema else "any")


def _bounds(label: str, schema: Schema, low: str, high: str) -> str:
    lo, hi = _number(schema.get(low)), _number(schema.get(high))
    if lo is not None and hi is not None:
        return f"{label}{lo}&ndash;{hi}"
    return f"{label}&ge; {lo}" if lo is not None else f"{label}&le; {hi}" if hi is not None else ""


def _constraints(spec: Schema, schema: Any, extra: Schema | None = None) -> str:
    """Pattern, lengths, ranges, enum, const, default, format, examples: of the schema, of the X of an optional
    X, and of a referenced enum or scalar; one per line."""
    if not isinstance(schema, dict):
        return ""
    base = _unwrap(schema)
    resolved = _resolve(spec, base)[1]
    sources = [schema, base, {} if resolved.get("properties") else resolved, extra or {}]
    parts: list[str] = []
    for source in {id(s): s for s in sources}.values():
        if isinstance(source.get("pattern"), str):
            parts.append(f"pattern <code>{_e(source['pattern'])}</code>")
        parts += [_bounds("length ", source, "minLength", "maxLength"), _bounds("", source, "minimum", "maximum")]
        parts += [_bounds("items ", source, "minItems", "maxItems")]
        parts += [_bounds("fields ", source, "minProperties", "maxProperties")]
        for key, label in (
            ("exclusiveMinimum", "&gt; "),
            ("exclusiveMaximum", "&lt; "),
            ("multipleOf", "multiple of "),
        ):
            parts.append(label + str(_number(source.get(key))) if _number(source.get(key)) else "")
        if isinstance(source.get("enum"), list):
            parts.append("one of " + ", ".join(_code(v) for v in source["enum"]))
        for key, label in (("const", "always"), ("default", "default"), ("format", "format"), ("example", "example")):
            parts.append(f"{label} {_code(source[key])}" if key in source else "")
        parts += [f"example {_code(v)}" for v in _list(source.get("examples"))[:3]]
        flags = (("uniqueItems", "unique items"), ("readOnly", "read-only"), ("writeOnly", "write-only"))
        parts += [label for key, label in (*flags, ("deprecated", "deprecated")) if source.get(key) is True]
    return "<br>".join(dict.fromkeys(p for p in parts if p))


def _fields(spec: Schema, schema: Schema, depth: int, seen: frozenset[str], nesting: int) -> str:
    """An object's fields as a table; nested objects expand in <details> up to `nesting` levels, never into a
    schema already open above them (a recursive schema links to its entry under Schemas instead)."""
    required = set(_list(schema.get("required")))
    rows = []
    for name, raw in _dict(schema.get("properties")).items():
        prop = _dict(raw)
        description = prop.get("description") or _resolve(spec, _unwrap(prop))[1].get("description")
        mark = '<span class="req">required</span>' if name in required else ""
        rows.append(
            f"<tr><td><code>{_e(name)}</code>{mark}</td><td>{_type(spec, prop)}</td>"
            f"<td>{_constraints(spec, prop)}</td><td>{_text(description)}</td></tr>"
        )
        found = _expandable(spec, prop)
        if found and depth < nesting and (found[0] is None or found[0] not in seen):
            ref, target = found
            inner = _fields(spec, target, depth + 1, seen | {ref} if ref else seen, nesting)
            label = f"Fields of {_e(ref)}" if ref else "Fields"
            rows.append(
                f'<tr class="sub"><td colspan="4"><details><summary>{label}</summary>{inner}</details></td></tr>'
            )
    extra = schema.get("additionalProperties")
    note = '<p class="note">No other fields are accepted.</p>' if extra is False else ""
    note = f'<p class="note">Other fields: {_type(spec, extra)}</p>' if isinstance(extra, dict) and extra else note
    if not rows:
        return note
    head = "<tr><th>Field</th><th>Type</th><th>Constraints</th><th>Description</th></tr>"
    return f"<table>{head}{''.join(rows)}</table>{note}"


def _schema(spec: Schema, schema: Any, nesting: int, examples: bool = False) -> str:
    """A schema's type line, its own constraints, its fields, and (`examples`) its examples pretty-printed."""
    own = {k: v for k, v in _dict(schema).items() if k not in ("example", "examples")}
    constraints = _constraints(spec, own)
    html = f'<p class="note">Type: {_type(spec, schema)}</p>'
    html += f'<p class="note">{constraints}</p>' if constraints else ""
    found = _expandable(spec, schema)
    if found:
        html += _fields(spec, found[1], 0, frozenset({found[0]}) if found[0] else frozenset(), nesting)
    shown = _examples(spec, {"schema": schema}) if examples else ""
    return html + (f"<details><summary>Examples</summary>{shown}</details>" if shown else "")


def _examples(spec: Schema, media: Schema) -> str:
    found: list[tuple[str, Any, Any]] = []
    for key, raw in _dict(media.get("examples")).items():
        example = _resolve(spec, raw)[1]
        if "value" in example:
            found.append((example.get("summary") or key, example.get("description"), example["value"]))
    found += [("Example", None, media["example"])] if "example" in media else []
    if not found:  # the schema's own examples
        schema = _resolve(spec, _unwrap(_dict(media.get("schema"))))[1]
        found += [("Example", None, v) for v in _list(schema.get("examples"))]
        found += [("Example", None, schema["example"])] if "example" in schema else []
    return "".join(
        f'<div class="example"><p class="example-title">{_e(title)}</p>{_text(description)}'
        f"<pre><code>{_e(json.dumps(value, indent=2, ensure_ascii=False))}</code></pre></div>"
        for title, description, value in found
    )


def _access(spec: Schema, operation: Schema) -> tuple[str, str]:
    """The operation's key badge, (css class, text): `[]` is public, a `{}` among the alternatives optional."""
    security = operation.get("security", spec.get("security"))
    if not isinstance(security, list):
        return "", ""  # the document does not say
    alternatives = [_dict(r) for r in security]
    named = " or ".join(" + ".join(_e(n) for n in r) for r in alternatives if r)
    if not alternatives:
        return "public", "public: no key"
    return ("optional", f"key optional ({named})") if {} in alternatives else ("key", f"key: {named}")


def _parameters(spec: Schema, path_item: Schema, operation: Schema) -> str:
    merged = {}
    for raw in [*_list(path_item.get("parameters")), *_list(operation.get("parameters"))]:
        param = _resolve(spec, raw)[1]
        merged[(param.get("name"), param.get("in"))] = param
    rows = []
    for p in (p for p in merged.values() if p):
        media = [_dict(m) for m in _dict(p.get("content")).values()]
        schema = p.get("schema") if isinstance(p.get("schema"), dict) else media[0].get("schema") if media else {}
        mark = '<span class="req">required</span>' if p.get("required") else ""
        mark += ' <span class="badge badge-deprecated">deprecated</span>' if p.get("deprecated") else ""
        constraints = _constraints(spec, schema, {"example": p["example"]} if "example" in p else None)
        rows.append(
            f"<tr><td><code>{_e(p.get('name', ''))}</code>{mark}</td><td>{_e(p.get('in', ''))}</td>"
            f"<td>{_type(spec, schema)}</td><td>{constraints}</td>"
            f"<td>{_text(p.get('description') or _dict(schema).get('description'))}</td></tr>"
        )
    head = "<tr><th>Name</th><th>In</th><th>Type</th><th>Constraints</th><th>Description</th></tr>"
    return f"<h4>Parameters</h4><table>{head}{''.join(rows)}</table>" if rows else ""


def _request_body(spec: Schema, operation: Schema) -> str:
    body = _resolve(spec, operation.get("requestBody"))[1]
    if not body:
        return ""
    mark = '<span class="req">required</span>' if body.get("required") else '<span class="note">optional</span>'
    html = f"<h4>Request body {mark}</h4>{_text(body.get('description'))}"
    for media_type, raw in _dict(body.get("content")).items():
        media = _dict(raw)
        html += f'<p class="note"><code>{_e(media_type)}</code></p>' + _schema(spec, media.get("schema"), NESTING)
        examples = _examples(spec, media)
        html += f"<details open><summary>Examples</summary>{examples}</details>" if examples else ""
    return html


def _responses(spec: Schema, operation: Schema) -> str:
    """Status, description and body of each response; fields shown for successes and inline schemas (the
    error shape is one link, not forty copies)."""
    rows = []
    for status, raw in _dict(operation.get("responses")).items():
        response = _resolve(spec, raw)[1]
        cells = []
        for media_type, media in _dict(response.get("content")).items():
            schema = _dict(media).get("schema")
            cell = f"<code>{_e(media_type)}</code> {_type(spec, schema) if schema else ''}"
            found = _expandable(spec, schema)
            if found and (str(status).startswith("2") or "$ref" not in _unwrap(_dict(schema))):
                inner = _fields(spec, found[1], 0, frozenset({found[0]}) if found[0] else frozenset(), 2)
                cell += f"<details><summary>Fields</summary>{inner}</details>"
            examples = _examples(spec, _dict(media))
            cells.append(cell + (f"<details><summary>Examples</summary>{examples}</details>" if examples else ""))
        headers = _dict(response.get("headers"))
        cells += ["Headers: " + ", ".join(f"<code>{_e(h)}</code>" for h in headers)] if headers else []
        rows.append(
            f'<tr><td class="status s{_e(str(status)[:1])}">{_e(status)}</td>'
            f"<td>{_text(response.get('description'))}</td>"
            f"<td>{'<br>'.join(cells) or NO_BODY}</td></tr>"
        )
    head = "<tr><th>Status</th><th>Description</th><th>Body</th></tr>"
    return f"<h4>Responses</h4><table>{head}{''.join(rows)}</table>" if rows else ""


def _operations(spec: Schema) -> list[Operation]:
    """Every operation in the document's order, with a unique anchor: its operationId, else method-path."""
    found, used = [], set()
    for path, raw in _dict(spec.get("paths")).items():
        path_item = _resolve(spec, raw)[1]
        for method in (m for m in path_item if m in METHODS and isinstance(path_item[m], dict)):
            operation = path_item[method]
            anchor = re.sub(r"\s+", "-", str(operation.get("operationId") or "").strip())
            base = anchor = anchor or re.sub(r"[^A-Za-z0-9]+", "-", f"{method}-{path}").strip("-")
            n = 1
            while anchor in used:
                n += 1
                anchor = f"{base}-{n}"
            used.add(anchor)
            found.append((anchor, method, str(path), operation, path_item))
    return found


def _authentication(spec: Schema) -> str:
    entries = []
    for name, raw in _dict(_dict(spec.get("components")).get("securitySchemes")).items():
        scheme = _resolve(spec, raw)[1]
        kind, where, key = scheme.get("type"), scheme.get("in", "header"), _e(scheme.get("name", ""))
        http = str(scheme.get("scheme", "")).lower()
        how = {
            "apiKey": f"the key in the header <code>{key}: KEY</code>"
            if where == "header"
            else f"the key in the {_e(where)} <code>{key}</code>",
            "http": "<code>Authorization: Bearer KEY</code>" if http == "bearer" else f"HTTP {_e(http)} credentials",
            "oauth2": "an OAuth 2 token (" + ", ".join(_e(f) for f in _dict(scheme.get("flows"))) + ")",
            "openIdConnect": f"an OpenID Connect token (<code>{_e(scheme.get('openIdConnectUrl', ''))}</code>)",
            "mutualTLS": "a client TLS certificate",
        }.get(str(kind), _e(kind))
        entries.append(f"<dt><code>{_e(name)}</code></dt><dd><p>Send {how}.</p>{_text(scheme.get('description'))}</dd>")
    body = (
        "<p>Operations marked <span class='badge badge-key'>key</span> need one of these; "
        "<span class='badge badge-optional'>key optional</span> ones take one, <span class='badge badge-public'>"
        f"public</span> ones need none.</p><dl>{''.join(entries)}</dl>"
        if entries
        else "<p>This API declares no authentication.</p>"
    )
    return f'<section id="authentication"><h2>Authentication</h2>{body}</section>'


def _operation(spec: Schema, entry: Operation, badge: str, search: str) -> str:
    anchor, _, path, op, path_item = entry
    kind, access = _access(spec, op)
    flags = f' <span class="badge badge-{kind}">{access}</span>' if kind else ""
    flags += ' <span class="badge badge-deprecated">deprecated</span>' if op.get("deprecated") else ""
    op_id = f"operationId <code>{_e(op['operationId'])}</code> &middot; " if op.get("operationId") else ""
    return (
        f'<section class="op" id="{_e(anchor)}" data-search="{search}">'
        f'<h3>{badge} <code class="path">{_e(path)}</code>{flags}</h3>'
        f'<p class="summary">{_e(op.get("summary", ""))}</p><p class="note">{op_id}<a href="#{_e(anchor)}">link</a>'
        f"</p>{_text(op.get('description'))}{_parameters(spec, path_item, op)}{_request_body(spec, op)}"
        f"{_responses(spec, op)}</section>"
    )


def render_html(spec: dict[str, Any]) -> str:
    """The whole page for an OpenAPI document (any 3.x; what is missing is left out)."""
    info = _dict(spec.get("info"))
    title = str(info.get("title") or "API reference")
    tag_info = {str(t.get("name")): t for t in map(_dict, _list(spec.get("tags")))}
    groups: dict[str, list[Operation]] = {name: [] for name in tag_info}
    for entry in _operations(spec):
        groups.setdefault(str((_list(entry[3].get("tags")) or ["other"])[0]), []).append(entry)
    nav, sections = [], []
    for tag, entries in ((tag, entries) for tag, entries in groups.items() if entries):
        items, ops = [], []
        for entry in entries:
            anchor, method, path, op, _ = entry
            summary = op.get("summary") or path
            search = _e(" ".join(map(str, (method, path, anchor, summary, tag))).lower())
            badge = f'<span class="m m-{_e(method)}">{_e(method.upper())}</span>'
            link = f'<a href="#{_e(anchor)}" title="{_e(method.upper())} {_e(path)}">{badge} {_e(summary)}</a>'
            items.append(f'<li data-search="{search}">{link}</li>')
            ops.append(_operation(spec, entry, badge, search))
        heading = f'<p class="group-title"><a href="#tag-{_e(tag)}">{_e(tag)}</a></p>'
        nav.append(f"<div data-group>{heading}<ul>{''.join(items)}</ul></div>")
        described = _text(_dict(tag_info.get(tag)).get("description"))
        sections.append(f'<section id="tag-{_e(tag)}" data-group><h2>{_e(tag)}</h2>{described}{"".join(ops)}</section>')
    schemas = "".join(
        f'<section class="schema" id="schema-{_e(name)}"><h3>{_e(name)}</h3>'
        f"{_text(_dict(schema).get('description'))}{_schema(spec, schema, 0, examples=True)}</section>"
        for name, schema in _dict(_dict(spec.get("components")).get("schemas")).items()
    )
    servers = ", ".join(f"<code>{_e(s.get('url', ''))}</code>" for s in map(_dict, _list(spec.get("servers"))))
    csp = (
        f"default-src 'none'; style-src {_sha256(CSS)}; script-src {_sha256(SCRIPT)}; img-src data:; "
        "base-uri 'none'; form-action 'none'"
    )
    meta = f"Version {_e(info.get('version', '?'))} &middot; OpenAPI {_e(spec.get('openapi', '?'))}"
    meta += ' &middot; <a href="openapi.json">openapi.json</a>' + (f" &middot; servers {servers}" if servers else "")
    lead = f'<p class="lead">{_e(info["summary"])}</p>' if info.get("summary") else ""
    page = f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="{csp}">
<meta name="referrer" content="no-referrer">
<title>{_e(title)} &middot; reference</title>
<link rel="icon" href="data:,">
<style>{CSS}</style>
</head>
<body>
<a class="skip" href="#content">Skip to the content</a>
<div class="layout">
<nav aria-label="Contents">
<p class="brand"><a href="#top">{_e(title)}</a></p>
<input id="filter" type="search" placeholder="Filter operations" aria-label="Filter operations" hidden>
<ul><li><a href="#authentication">Authentication</a></li></ul>
{"".join(nav)}
<p class="group-title"><a href="#schemas">Schemas</a></p>
</nav>
<main id="content">
<header id="top"><h1>{_e(title)}</h1><p class="meta">{meta}</p>{lead}{_text(info.get("description"))}</header>
{_authentication(spec)}
{"".join(sections)}
<section id="schemas"><h2>Schemas</h2>{schemas or '<p class="muted">None.</p>'}</section>
<footer>Rendered from this API's OpenAPI document, <a href="openapi.json">openapi.json</a>.</footer>
</main>
</div>
<script>{SCRIPT}</script>
</body>
</html>
"""
    return page.encode("ascii", "xmlcharrefreplace").decode("ascii")
