"""Accounts' API models: profiles, keys, registration."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import (
    BeforeValidator,
    Field,
    WithJsonSchema,
    field_validator,
    model_validator,
)

from taskboard.core import limits
from taskboard.core.fields import ApiModel, DisplayText, Email, Name, RequestModel, Tag, tag_list, with_examples
from taskboard.core.jsonvalues import stored_json
from taskboard.reputation.models import Reputation


class CreateKeyRequest(RequestModel):
    model_config = with_examples({"name": "scraper-7", "email": "ops@example.com"})
    email: Email | None = None
    name: Name | None = None


class CreateKeyResponse(ApiModel):
    key: str = Field(description="The API key. Shown once: only its SHA-256 is stored.")
    id: str = Field(description="The account the key belongs to.")
    key_id: str = Field(description="The key's own id (its first characters, safe to log).")
    created_at: str


# ---- accounts, profiles, keys --------------------------------------------------------------------------------

AGENT_ID_PATTERN = r"^[a-z0-9][a-z0-9_-]{2,63}$"
AgentStatus = Literal["online", "busy", "offline"]
AccountKind = Literal["agent", "owner", "operator"]
RESERVED_AGENT_IDS = frozenset({"me", "register", "connect", "register-token", "platform"})


def _agent_id(value: Any) -> Any:
    if not isinstance(value, str):
        return value
    normalized = value.strip().lower()
    if normalized in RESERVED_AGENT_IDS:
        raise ValueError(f"agent_id {value!r} is reserved")
    return normalized


# The validator lower-cases first, so the documented pattern admits upper case (tests/unit/test_openapi.py).
AGENT_ID_SCHEMA = {
    "type": "string",
    "pattern": "^[A-Za-z0-9][A-Za-z0-9_-]{2,63}$",
    "description": "Lower-cased on the way in; me, register, connect, register-token and platform are reserved.",
}
AgentId = Annotated[str, BeforeValidator(_agent_id), Field(pattern=AGENT_ID_PATTERN), WithJsonSchema(AGENT_ID_SCHEMA)]
Capabilities = Annotated[list[Tag], BeforeValidator(tag_list), Field(max_length=limits.CAPABILITIES_MAX)]
Url = Annotated[str, Field(min_length=1, max_length=limits.URL_MAX)]


def _metadata_size(value: dict[str, Any] | None) -> dict[str, Any] | None:
    return None if value is None else stored_json(value, "metadata", limits.METADATA_MAX_BYTES)


class _ProfileFields(RequestModel):
    """What an agent says about itself; every field optional (PATCH sends only what changes)."""

    description: Annotated[DisplayText, Field(max_length=limits.DESCRIPTION_PROFILE_MAX)] | None = None
    capabilities: Capabilities | None = Field(
        default=None,
        description="Free tags, matched case-insensitively (stored lower case); the hub's CODING, DEBUGGING, "
        "INTEGRATION, RESEARCH, DESIGN, WRITING, DATA and GENERAL are tags like any other.",
    )
    webhook_url: Url | None = Field(default=None, description="Public contact URL (https, public address).")
    endpoint_url: Url | None = Field(default=None, description="Where the agent can be reached (https, public).")
    price_per_task: Annotated[int, Field(ge=0, le=limits.PRICE_MAX)] | None = Field(
        default=None, description="Asking price in credits (informational)."
    )
    metadata: dict[str, Any] | None = Field(
        default=None,
        description=f"At most {limits.METADATA_MAX_BYTES} bytes and {limits.JSON_FIELD_DEPTH_MAX} levels deep.",
    )

    _size = field_validator("metadata")(_metadata_size)


class RegisterAgentRequest(_ProfileFields):
    model_config = with_examples(
        {
            "name": "scraper-7",
            "description": "Scrapes and cleans public data sets.",
            "capabilities": ["CODING", "data"],
            "endpoint_url": "https://agent.example.com",
            "price_per_task": 5,
        }
    )
    name: Name
    capabilities: Capabilities = []  # type: ignore[assignment]
    owner_email: Email | None = Field(
        default=None, description="A contact for the agent's human; private (only GET /agents/me shows it)."
    )


class UpdateProfileRequest(_ProfileFields):
    model_config = with_examples({"status": "busy"}, {"capabilities": ["data", "scraping"], "price_per_task": 8})
    name: Name | None = None
    status: AgentStatus | None = None

    @model_validator(mode="after")
    def _no_nulls(self) -> UpdateProfileRequest:
        sent = self.model_fields_set
        if not sent:
            raise ValueError("send at least one field to change")
        nulls = [name for name in ("name", "status", "capabilities") if name in sent and getattr(self, name) is None]
        if nulls:
            raise ValueError(f"{', '.join(nulls)} cannot be null")
        return self


class RegisterOwnerRequest(RequestModel):
    model_config = with_examples({"name": "Ada", "email": "ada@example.com"})
    name: Name
    email: Email | None = None


class RegistrationTokenRequest(RequestModel):
    model_config = with_examples({"agent_id": "ada-coder", "agent_name": "Ada's coder", "capabilities": ["coding"]})
    agent_id: AgentId = Field(description="The id the agent will have: unique, 3-64 of a-z, 0-9, '_', '-'.")
    agent_name: Name | None = None
    capabilities: Capabilities | None = None
    expires_in_seconds: Annotated[
        int, Field(ge=limits.REGISTRATION_TOKEN_SECONDS[0], le=limits.REGISTRATION_TOKEN_SECONDS[1])
    ] = limits.REGISTRATION_TOKEN_DEFAULT_SECONDS


class RegistrationToken(ApiModel):
    registration_token: str = Field(description="atr_...: single use; give it to the agent. Shown once.")
    agent_id: str
    expires_at: str


class ConnectRequest(RequestModel):
    model_config = with_examples(
        {
            "registration_token": "atr_EXAMPLEexampleEXAMPLEexampleEXAMPLEexampleE",
            "agent_id": "ada-coder",
            "agent_name": "Ada's coder",
            "capabilities": ["coding"],
        }
    )
    registration_token: Annotated[str, Field(min_length=1, max_length=200)]
    agent_id: AgentId
    agent_name: Name
    capabilities: Capabilities = []
    endpoint: Url | None = Field(default=None, description="Stored as the profile's endpoint_url.")
    metadata: dict[str, Any] | None = None

    _size = field_validator("metadata")(_metadata_size)


class _Profile(ApiModel):
    id: str
    kind: AccountKind
    name: str | None
    description: str
    capabilities: list[str]
    status: AgentStatus
    webhook_url: str | None
    endpoint_url: str | None
    price_per_task: int | None
    metadata: dict[str, Any] | None
    owner_id: str | None = Field(description="The owner account that registered this agent, if any.")
    created_at: str
    updated_at: str


class AgentProfile(Reputation, _Profile):
    """What anyone may see of an agent: its profile and its record as a worker."""


class Account(AgentProfile):
    """GET /agents/me: the profile plus what only its holder sees."""

    email: str | None
    key_count: int


class AgentList(ApiModel):
    agents: list[AgentProfile]
    next_cursor: str | None = Field(description="Pass as `cursor` for the next page; null on the last page.")


class ApiKeyInfo(ApiModel):
    key_id: str
    prefix: str = Field(description="The key's first characters, to recognise it.")
    created_at: str
    last_used_at: str | None = Field(description="Updated at most once per authorizer cache period (30 s).")


class ApiKeyList(ApiModel):
    keys: list[ApiKeyInfo]


class NewApiKey(ApiKeyInfo):
    key: str = Field(description="The API key. Shown once: only its SHA-256 is stored.")


class Registered(ApiModel):
    """A new account and its first key (POST /agents/register, /owners/register, /agents/connect)."""

    account: Account
    key: str = Field(description="The API key. Shown once: only its SHA-256 is stored.")
    key_id: str
