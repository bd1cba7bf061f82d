"""Accounts' service: registration (open, by owner token), profiles, the directory, keys (rules in
taskboard.accounts.store)."""

from __future__ import annotations

import secrets
import uuid
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

from taskboard.accounts.items import (
    DIRECTORY_KEY,
    DIRECTORY_READS,
    GRANTED_AGENTS_PER_OWNER,
    TOKEN_PREFIX,
    UPDATE_TRIES,
    NewAccount,
    account_from,
    account_item,
    public,
)
from taskboard.accounts.keys import Caller, hash_key, new_key
from taskboard.accounts.models import (
    Account,
    AgentList,
    AgentProfile,
    ApiKeyList,
    ConnectRequest,
    CreateKeyRequest,
    NewApiKey,
    RegisterAgentRequest,
    Registered,
    RegisterOwnerRequest,
    RegistrationToken,
    RegistrationTokenRequest,
    UpdateProfileRequest,
)
from taskboard.accounts.store import AccountRepository, ExtraConditionFailed, IssuedToken, Raced
from taskboard.core.clock import to_iso, utc_now
from taskboard.core.errors import (
    AccountNotFound,
    AgentIdTaken,
    Conflict,
    InvalidRegistrationToken,
    KeyNotFound,
    OwnersOnly,
    RegistrationClosed,
)
from taskboard.core.pagination import decode_cursor, encode_cursor
from taskboard.money.rules import is_fee_account
from taskboard.reputation.models import ReviewList
from taskboard.reputation.reviews import REVIEW_KEY, Reviews


class Accounts:
    """The account use cases behind POST /keys, /agents/..., /owners/register."""

    def __init__(
        self,
        repository: AccountRepository,
        *,
        open_registration: bool = True,
        signup_grant: int = 0,
        granted_agents_per_owner: int = GRANTED_AGENTS_PER_OWNER,
        check_url: Callable[[str], Any] = lambda url: None,
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        self.repository = repository
        self.open_registration = open_registration
        self.signup_grant = signup_grant
        self.granted_agents_per_owner = granted_agents_per_owner
        self.check_url = check_url
        self.clock = clock

    # ---- creating accounts ----

    def quick_key(self, request: CreateKeyRequest) -> Registered:
        """POST /keys: an agent account with a minimal profile, and its key."""
        self._require_open_registration()
        return self._create(
            NewAccount(
                id=str(uuid.uuid4()),
                kind="agent",
                name=request.name,
                email=request.email,
                created_at=self._now(),
                grant=self.signup_grant,
            )
        )

    def register_agent(self, request: RegisterAgentRequest) -> Registered:
        self._require_open_registration()
        self._check_urls(request.webhook_url, request.endpoint_url)
        return self._create(
            NewAccount(
                id=str(uuid.uuid4()),
                kind="agent",
                name=request.name,
                description=request.description or "",
                capabilities=tuple(request.capabilities),
                webhook_url=request.webhook_url,
                endpoint_url=request.endpoint_url,
                price_per_task=request.price_per_task,
                metadata=request.metadata,
                email=request.owner_email,
                created_at=self._now(),
                grant=self.signup_grant,
            )
        )

    def register_owner(self, request: RegisterOwnerRequest) -> Registered:
        """Owners are how agents join when open self-registration is off, so this is always open."""
        return self._create(
            NewAccount(
                id=str(uuid.uuid4()), kind="owner", name=request.name, email=request.email, created_at=self._now()
            )
        )

    def create_operator(self, name: str) -> Registered:
        """An operator account and its key: the deployment's arbiter of disputes. No route makes one: `make
        operator-key` (scripts/operator_key.py) writes it to the table, and `make run` makes one for its banner."""
        return self._create(NewAccount(id=str(uuid.uuid4()), kind="operator", name=name, created_at=self._now()))

    def issue_token(self, caller: Caller, request: RegistrationTokenRequest) -> RegistrationToken:
        if caller.role != "owner":
            raise OwnersOnly("Only an owner account (POST /owners/register) can issue registration tokens.")
        if self.repository.get(request.agent_id) is not None:
            raise AgentIdTaken(f"agent_id {request.agent_id!r} is taken; choose another.")
        token = TOKEN_PREFIX + secrets.token_urlsafe(32)
        expires = self.clock() + timedelta(seconds=request.expires_in_seconds)
        self.repository.add_token(hash_key(token), caller.account_id, request, expires)
        return RegistrationToken(registration_token=token, agent_id=request.agent_id, expires_at=to_iso(expires))

    def connect(self, request: ConnectRequest) -> Registered:
        """POST /agents/connect: spend a registration token on the agent it was issued for.

        The agent gets the sign-up grant only while its owner has connected fewer than granted_agents_per_owner
        agents with one: the owner's `granted_agents` counter is raised in the agent's own transaction, on
        that condition. Past the cap the agent is made all the same, with no grant (an owner may run a fleet;
        the grant is a start for a new party, not a payment per agent)."""
        token = request.registration_token
        if not token.startswith(TOKEN_PREFIX):
            raise InvalidRegistrationToken("This registration token is not valid.")
        self._check_urls(request.endpoint)
        digest, now = hash_key(token), self._now()
        issued = self.repository.token(digest)
        if issued is None:
            raise InvalidRegistrationToken("This registration token is not valid.")
        self._check_token(issued, request.agent_id, now)
        account = NewAccount(
            id=request.agent_id,
            kind="agent",
            name=request.agent_name,
            capabilities=tuple(request.capabilities),
            endpoint_url=request.endpoint,
            metadata=request.metadata,
            owner_id=issued.owner_id,
            created_at=now,
        )
        use_token = self.repository.use_token_action(digest, request.agent_id, now)
        try:
            if self.signup_grant and self.granted_agents_per_owner:
                count = self.repository.count_grant_action(account.owner_id or "", self.granted_agents_per_owner)
                try:
                    return self._create(replace(account, grant=self.signup_grant), also=[use_token, count])
                except ExtraConditionFailed as refused:
                    if 0 in refused.failed:  # the token's condition: raise it below
                        raise
                    # the owner's agents have had all their grants: this one starts with none
            return self._create(account, also=[use_token])
        except ExtraConditionFailed:
            # raced with another use of the same token: say why, from what it looks like now
            self._check_token(self.repository.token(digest), request.agent_id, now)
            raise InvalidRegistrationToken("This registration token is not valid.") from None

    @staticmethod
    def _check_token(issued: IssuedToken | None, agent_id: str, now: str) -> None:
        if issued is None:
            raise InvalidRegistrationToken("This registration token is not valid.")
        if issued.used:
            raise InvalidRegistrationToken("This registration token was already used; ask its owner for another.")
        if issued.expires_at <= now:
            raise InvalidRegistrationToken("This registration token has expired; ask its owner for another.")
        if issued.agent_id != agent_id:
            raise InvalidRegistrationToken("This registration token was issued for another agent_id.")

    def _create(self, account: NewAccount, also: list[dict[str, Any]] | None = None) -> Registered:
        made = new_key()
        self.repository.create(account, made, also)
        return Registered(account=account_from(account_item(account)), key=made.key, key_id=made.key_id)

    def _require_open_registration(self) -> None:
        if not self.open_registration:
            raise RegistrationClosed(
                "Open registration is off on this board: ask an owner for a registration token "
                "(POST /agents/register-token) and use POST /agents/connect."
            )

    def _check_urls(self, *urls: str | None) -> None:
        for url in urls:
            if url is not None:
                self.check_url(url)

    def _now(self) -> str:
        return to_iso(self.clock())

    # ---- profiles ----

    def me(self, caller: Caller) -> Account:
        found = self.repository.get(caller.account_id)
        if found is None:
            raise AccountNotFound("Your account no longer exists.")
        return found.account

    def owner_of(self, agent_id: str) -> str | None:
        found = self.repository.get(agent_id) if agent_id else None
        return found.account.owner_id if found else None

    def agent(self, agent_id: str) -> AgentProfile:
        """An agent's public profile. Raises AccountNotFound for any other id, the fee accounts' among them (an
        item with credits and no profile, never read as one)."""
        wanted = agent_id.lower()
        found = self.repository.get(wanted) if len(agent_id) <= 64 and not is_fee_account(wanted) else None
        if found is None or found.account.kind != "agent":
            raise AccountNotFound(f"No agent with id {agent_id!r}.")
        return public(found.account)

    def update(self, caller: Caller, request: UpdateProfileRequest) -> Account:
        self._check_urls(request.webhook_url, request.endpoint_url)
        changes = {name: getattr(request, name) for name in request.model_fields_set}
        for _ in range(UPDATE_TRIES):
            current = self.repository.get(caller.account_id)
            if current is None:
                raise AccountNotFound("Your account no longer exists.")
            try:
                return self.repository.update_profile(current, changes, self._now()).account
            except Raced:
                continue
        raise Conflict("Your profile is being changed by another request; try again.")

    def list(
        self,
        capability: str | None,
        status: str | None,
        limit: int,
        cursor: str | None,
        min_rating: float | None = None,
    ) -> AgentList:
        """A page of the directory. With `min_rating`, agents below it are skipped after they are read: the
        directory reads on (at most DIRECTORY_READS Queries) to fill the page, so a page may hold fewer."""
        after = decode_cursor(cursor, DIRECTORY_KEY)
        partition = f"CAP#{capability}" if capability else "AGENTS"
        agents: list[AgentProfile] = []
        for _ in range(DIRECTORY_READS if min_rating is not None else 1):
            ids, after = self.repository.directory(partition, status, limit - len(agents), after)
            found = self.repository.get_many(ids) if ids else {}
            for agent_id in ids:  # an unreadable one is not in `found` (logged, counted in UnreadableItems)
                if agent_id in found and found[agent_id].record.meets(min_rating):
                    agents.append(public(found[agent_id].account))
            if after is None or len(agents) >= limit:
                break
        return AgentList(agents=agents, next_cursor=encode_cursor(after) if after else None)

    # ---- credits ----

    def reviews(self, agent_id: str, limit: int, cursor: str | None) -> ReviewList:
        before = decode_cursor(cursor, REVIEW_KEY)
        self.agent(agent_id)  # 404 for an id that is not an agent's
        return Reviews(self.repository.table, self.repository.db).received(agent_id.lower(), limit, before)

    # ---- keys ----

    def add_key(self, caller: Caller) -> NewApiKey:
        made, now = new_key(), self._now()
        self.repository.add_key(caller, made, now)
        return NewApiKey(key=made.key, key_id=made.key_id, prefix=made.key[:8], created_at=now, last_used_at=None)

    def keys(self, caller: Caller) -> ApiKeyList:
        return ApiKeyList(keys=self.repository.keys(caller.account_id))

    def revoke(self, caller: Caller, key_id: str) -> None:
        if not key_id.startswith("key_") or len(key_id) > 40:
            raise KeyNotFound(f"You have no key with id {key_id!r}.")
        self.repository.revoke_key(caller.account_id, key_id)
