"""One function's route: declared as Powertools' event handler declares it, served without loading it.

A function module is a `Router` with one route (`@router.get("/tasks/<task_id>")`), whose parameters say what
the request carries: a name in the path is a path parameter, a pydantic model (or `Annotated[..., Body()]`) is
the JSON body, anything else is a query parameter (`Annotated[int, Query(ge=1)]`); the return annotation is the
response model (`Response[Model]` for another status). Serving it validates the path, query and body with
pydantic, calls the function and serializes its answer as that model: what `APIGatewayRestResolver(
enable_validation=True)` does, for the one route a function has, without the ~100 ms its package costs every
cold start to import (every resolver, the OpenAPI machinery, asyncio). The OpenAPI document is still Powertools'
(local/openapi.py hands it these routes), so the document and the validation read one declaration."""

from __future__ import annotations

import inspect
import json
import re
import threading
import typing
from collections.abc import Callable, Mapping
from functools import cached_property
from types import UnionType
from typing import Annotated, Any, Generic, NamedTuple, TypeVar

from pydantic import BaseModel, Field, TypeAdapter, ValidationError, create_model

T = TypeVar("T")

PATH_PARAMETER = re.compile(r"<(\w+)>")


# The small values here are NamedTuples and plain classes, not dataclasses: each dataclass costs ~1 ms to define,
# paid by every cold start of every function (a NamedTuple ~0.15 ms).


class Query(NamedTuple):
    """A query parameter's constraints and documentation (as Powertools' `Query`, whose keywords these are)."""

    description: str | None = None
    ge: float | None = None
    le: float | None = None
    alias: str | None = None

    def keywords(self) -> dict[str, Any]:
        return _given(self._asdict())


class Body(NamedTuple):
    """Marks a parameter as the request's JSON body (needed when its type is optional: `Model | None`)."""

    description: str | None = None

    def keywords(self) -> dict[str, Any]:
        return _given(self._asdict())


def _given(fields: dict[str, Any]) -> dict[str, Any]:
    """The keywords a marker was given (Powertools' own defaults stand for the rest)."""
    return {name: value for name, value in fields.items() if value is not None}


class Response(Generic[T]):
    """An answer with its own status (201, 202, 204) or content type; `body` is serialized as the route's model."""

    __slots__ = ("body", "content_type", "headers", "status_code")

    def __init__(
        self,
        status_code: int,
        body: T | None = None,
        content_type: str = "application/json",
        headers: dict[str, str] | None = None,
    ) -> None:
        self.status_code = status_code
        self.body = body
        self.content_type = content_type
        self.headers = dict(headers or {})


class RequestInvalid(Exception):
    """The request does not fit the route's declaration: pydantic's errors, each located (`query.limit`)."""

    def __init__(self, errors: list[dict[str, Any]]) -> None:
        super().__init__(errors)
        self.details = errors

    def errors(self) -> list[dict[str, Any]]:
        return self.details


class ResponseInvalid(Exception):
    """The function answered something its declared model does not describe: a bug, answered with a 500."""


class NoRoute(Exception):
    """The event is not for this function's route (another method or path)."""


def _located(error: ValidationError, prefix: tuple[str, ...]) -> list[dict[str, Any]]:
    return [{**item, "loc": (*prefix, *item["loc"])} for item in error.errors(include_url=False)]


def _optional_model(annotation: Any) -> type[BaseModel] | None:
    """The model in `Model` or `Model | None`, if that is what the annotation is."""
    options = typing.get_args(annotation) if isinstance(annotation, UnionType) else (annotation,)
    for option in options:
        if isinstance(option, type) and issubclass(option, BaseModel):
            return option
    return None


class _Parameter(NamedTuple):
    name: str
    annotation: Any  # without its marker
    marker: Query | Body | None
    default: Any  # inspect.Parameter.empty when required

    @property
    def required(self) -> bool:
        return self.default is inspect.Parameter.empty


class Route:
    """One endpoint: its method, path (`/tasks/<task_id>`), function, and what the OpenAPI document says of it
    (summary, tags, responses, description, operation_id: read by the document only)."""

    def __init__(self, method: str, path: str, function: Callable[..., Any], openapi: dict[str, Any]) -> None:
        self.method = method.upper()
        self.path = path
        self.function = function
        self.openapi = openapi

    @property
    def path_names(self) -> list[str]:
        return PATH_PARAMETER.findall(self.path)

    @cached_property
    def hints(self) -> dict[str, Any]:
        return typing.get_type_hints(self.function, include_extras=True)

    @cached_property
    def parameters(self) -> list[_Parameter]:
        found = []
        for name, parameter in inspect.signature(self.function).parameters.items():
            annotation, marker = self.hints.get(name, Any), None
            if typing.get_origin(annotation) is Annotated:
                annotation, *extras = typing.get_args(annotation)
                marker = next((extra for extra in extras if isinstance(extra, Query | Body)), None)
            found.append(_Parameter(name, annotation, marker, parameter.default))
        return found

    @cached_property
    def body(self) -> _Parameter | None:
        for parameter in self.parameters:
            if parameter.name in self.path_names:
                continue
            if isinstance(parameter.marker, Body) or _optional_model(parameter.annotation) is not None:
                return parameter
        return None

    @cached_property
    def query(self) -> list[_Parameter]:
        return [p for p in self.parameters if p.name not in self.path_names and p is not self.body]

    @property
    def query_names(self) -> frozenset[str]:
        return frozenset(self.alias(parameter) for parameter in self.query)

    @staticmethod
    def alias(parameter: _Parameter) -> str:
        return (parameter.marker.alias if isinstance(parameter.marker, Query) else None) or parameter.name

    @cached_property
    def _query_model(self) -> type[BaseModel]:
        fields: dict[str, Any] = {}
        for parameter in self.query:
            keywords = parameter.marker.keywords() if isinstance(parameter.marker, Query) else {}
            keywords.pop("description", None)
            keywords["alias"] = self.alias(parameter)
            default = ... if parameter.required else parameter.default
            fields[parameter.name] = (parameter.annotation, Field(default, **keywords))
        return create_model(f"{self.function.__name__}_query", **fields)

    @cached_property
    def _body_adapter(self) -> TypeAdapter[Any]:
        assert self.body is not None
        return TypeAdapter(self.body.annotation)

    @cached_property
    def _answer(self) -> tuple[int, Any]:
        """The status a plain return answers with (200) and the model it is serialized as."""
        returned = self.hints.get("return", Any)
        if typing.get_origin(returned) is Response:
            (returned,) = typing.get_args(returned) or (Any,)
        return 200, returned

    @cached_property
    def _answer_adapter(self) -> TypeAdapter[Any]:
        return TypeAdapter(self._answer[1])

    def arguments(self, event: Mapping[str, Any], body: Any) -> dict[str, Any]:
        """The function's keyword arguments from the event (path, query) and the body already read as JSON;
        RequestInvalid with every error, located as `path.x`, `query.x` or `body.x`."""
        values: dict[str, Any] = {}
        errors: list[dict[str, Any]] = []
        path = event.get("pathParameters") or {}
        for name in self.path_names:
            if path.get(name) in (None, ""):
                errors.append({"type": "missing", "loc": ("path", name), "msg": "Field required", "input": None})
            values[name] = path.get(name)
        if self.query:
            single = event.get("queryStringParameters") or {}
            multi = event.get("multiValueQueryStringParameters") or {}
            sent: dict[str, Any] = {}
            for name in self.query_names:
                repeated = multi.get(name) or ([single[name]] if name in single else [])
                if repeated:  # a scalar sent twice stays a list, which no scalar type accepts: 400
                    sent[name] = repeated[0] if len(repeated) == 1 else list(repeated)
            try:
                parsed = self._query_model.model_validate(sent)
                values.update({parameter.name: getattr(parsed, parameter.name) for parameter in self.query})
            except ValidationError as error:
                errors += _located(error, ("query",))
        if self.body is not None:
            if body is None and self.body.required:
                errors.append({"type": "missing", "loc": ("body",), "msg": "Field required", "input": None})
            elif body is None:
                values[self.body.name] = self.body.default
            else:
                try:
                    values[self.body.name] = self._body_adapter.validate_python(body)
                except ValidationError as error:
                    errors += _located(error, ("body",))
        if errors:
            raise RequestInvalid(errors)
        return values

    def answer(self, result: Any) -> dict[str, Any]:
        """The proxy response for what the function returned."""
        status, model = self._answer
        headers: dict[str, str] = {}
        content_type = "application/json"
        body = result
        if isinstance(result, Response):
            status, body, content_type, headers = result.status_code, result.body, result.content_type, result.headers
        if body is None or isinstance(body, str | bytes):
            text = body
        else:
            text = json.dumps(self._jsonable(body, model), separators=(",", ":"))
        return {
            "statusCode": status,
            "headers": {"Content-Type": content_type, **headers} if text is not None else dict(headers),
            "body": text.decode() if isinstance(text, bytes) else text,
            "isBase64Encoded": False,
        }

    def _jsonable(self, body: Any, model: Any) -> Any:
        if isinstance(model, type) and issubclass(model, BaseModel) and type(body) is model:
            return body.model_dump(mode="json", by_alias=True)
        try:
            return self._answer_adapter.dump_python(
                self._answer_adapter.validate_python(body), mode="json", by_alias=True
            )
        except ValidationError as error:
            raise ResponseInvalid(f"{self.function.__name__} answered outside its model: {error}") from error

    def serve(self, event: Mapping[str, Any], body: Any) -> dict[str, Any]:
        if str(event.get("httpMethod", "")).upper() != self.method:
            raise NoRoute()
        return self.answer(self.function(**self.arguments(event, body)))


class Router:
    """A function's route (one, by convention: one Lambda per endpoint), and the request's context."""

    def __init__(self) -> None:
        self.routes: list[Route] = []
        self._local = threading.local()  # the local server runs requests in threads; Lambda one at a time

    @property
    def context(self) -> dict[str, Any]:
        """What the handler found out before the route runs (the caller), for this request only."""
        if not hasattr(self._local, "context"):
            self._local.context = {}
        return self._local.context  # type: ignore[no-any-return]

    def route(self, path: str, method: str, **openapi: Any) -> Callable[[Callable[..., T]], Callable[..., T]]:
        def register(function: Callable[..., T]) -> Callable[..., T]:
            self.routes.append(Route(method.upper(), path, function, openapi))
            return function

        return register

    def get(self, path: str, **openapi: Any) -> Callable[[Callable[..., T]], Callable[..., T]]:
        return self.route(path, "GET", **openapi)

    def post(self, path: str, **openapi: Any) -> Callable[[Callable[..., T]], Callable[..., T]]:
        return self.route(path, "POST", **openapi)

    def put(self, path: str, **openapi: Any) -> Callable[[Callable[..., T]], Callable[..., T]]:
        return self.route(path, "PUT", **openapi)

    def patch(self, path: str, **openapi: Any) -> Callable[[Callable[..., T]], Callable[..., T]]:
        return self.route(path, "PATCH", **openapi)

    def delete(self, path: str, **openapi: Any) -> Callable[[Callable[..., T]], Callable[..., T]]:
        return self.route(path, "DELETE", **openapi)

    @property
    def only(self) -> Route:
        if len(self.routes) != 1:
            raise TypeError(f"a function serves one route; this router has {len(self.routes)}")
        return self.routes[0]
