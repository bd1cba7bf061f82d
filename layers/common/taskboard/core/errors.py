"""Domain errors. Each carries its HTTP status and a stable machine code; they become responses in one place
(taskboard.http.app), so no handler ever decides a status code itself."""

from __future__ import annotations

from typing import Any


class BoardError(Exception):
    status: int = 400
    code: str = "bad_request"

    def __init__(self, message: str, **extra: Any) -> None:
        super().__init__(message)
        self.message = message
        self.extra = extra


class InvalidRequest(BoardError):
    status, code = 400, "invalid_request"


class InvalidCursor(BoardError):
    status, code = 400, "invalid_cursor"


class UnsafeUrl(InvalidRequest):
    """A URL we refuse to call (a webhook, a callback_url): malformed, not https, or reaching inside."""

    code = "unsafe_url"


class InvalidOutputSchema(BoardError):
    status, code = 400, "invalid_output_schema"


class Unauthorized(BoardError):
    status, code = 401, "unauthorized"


class Forbidden(BoardError):
    status, code = 403, "forbidden"


class NotTheWorker(Forbidden):
    code = "not_the_worker"


class NotThePoster(Forbidden):
    code = "not_the_poster"


class OwnTask(Forbidden):
    code = "own_task"


class TaskNotFound(BoardError):
    status, code = 404, "task_not_found"


class WebhookNotFound(BoardError):
    status, code = 404, "webhook_not_found"


class Conflict(BoardError):
    status, code = 409, "conflict"


class TooManyWebhooks(Conflict):
    code = "too_many_webhooks"


class TaskNotClaimable(Conflict):
    code = "task_not_claimable"


class StaleClaim(Conflict):
    """The caller held this task's claim once, but the claim lapsed or moved on."""

    code = "stale_claim"


class InvalidTransition(Conflict):
    code = "invalid_transition"


class AlreadyReviewed(Conflict):
    code = "already_reviewed"


class NotQualified(Forbidden):
    """The task's qualifications (min_rating, min_completed) ask more than the caller's record holds."""

    code = "not_qualified"


# ---- gigs and orders ----


class GigNotFound(BoardError):
    status, code = 404, "gig_not_found"


class OrderNotFound(BoardError):
    status, code = 404, "order_not_found"


class NotTheSeller(Forbidden):
    code = "not_the_seller"


class NotTheBuyer(Forbidden):
    code = "not_the_buyer"


class NotAParty(Forbidden):
    code = "not_a_party"


class OwnDispute(Forbidden):
    """An operator who is a party to the disputed order cannot settle it."""

    code = "own_dispute"


class OperatorsOnly(Forbidden):
    code = "operators_only"


class OwnGig(Forbidden):
    code = "own_gig"


class GigNotOrderable(Conflict):
    """The gig is paused or archived (or changed its price since it was read)."""

    code = "gig_not_orderable"


class RevisionsExhausted(Conflict):
    code = "revisions_exhausted"


# ---- accounts and keys ----


class AccountNotFound(BoardError):
    status, code = 404, "agent_not_found"


class AgentIdTaken(Conflict):
    code = "agent_id_taken"


class InvalidRegistrationToken(Unauthorized):
    code = "invalid_registration_token"


class RegistrationClosed(Forbidden):
    code = "registration_closed"


class OwnersOnly(Forbidden):
    code = "owners_only"


class KeyNotFound(BoardError):
    status, code = 404, "key_not_found"


class LastKey(Conflict):
    code = "last_key"


class TooManyKeys(Conflict):
    code = "too_many_keys"


class TooManyRequests(BoardError):
    """Over a per-key (or per-IP) rate limit; the response carries Retry-After."""

    status, code = 429, "rate_limited"


class PayloadTooLarge(BoardError):
    status, code = 413, "payload_too_large"


class ResultInvalid(BoardError):
    status, code = 422, "result_invalid"


class Unavailable(BoardError):
    """A dependency kept refusing within the time a request has (DynamoDB throttling): retry shortly."""

    status, code = 503, "unavailable"


class TimerFiredEarly(Exception):
    """A timer woke before its deadline (Step Functions waits in whole seconds). Not an API error: the state
    machine's Retry on this exact name (the Lambda error type) tries again a moment later."""


class DeadlinesLeft(Exception):
    """A bucket's firing ran short of time with deadlines still to fire (a very full bucket). Not an API error:
    the state machine's Retry on this exact name runs the firing again, which reads on from what is left (fired
    deadlines have left the index with the change that fired them)."""


class TimersFailed(Exception):
    """Some deadlines of a bucket could not be fired (the others were): the state machine retries the firing,
    which fires what is still due and finds the rest already done."""


class SameOwner(Forbidden):
    """The caller and the task's poster answer to one owner (siblings, or an owner and its own agent): they may
    not work for, pay or review each other (taskboard.tasks.lifecycle.claim)."""

    code = "same_owner"


class InvalidJson(InvalidRequest):
    """A request body the one JSON reader at the door refuses (taskboard.core.json_reader.read_json): not UTF-8, not
    JSON, not an object at the top, too deep, a duplicate key, NaN or Infinity, or a number out of range.
    `reason` (in the response) names the rule, one of taskboard.core.json_reader.JSON_REASONS."""

    code = "invalid_json"


class ResultTooComplex(BoardError):
    """Checking a delivered result against output_schema ran past its time or error budget, or one pattern would
    have been run over a string too long to bound (taskboard.core.schema_check): refused, nothing recorded, never a 5xx.
    A 422 like result_invalid: this result cannot be accepted against this schema; sending it again will not help."""

    status, code = 422, "result_too_complex"


class WriteConflict(Exception):
    """What a conditional write found changed since it was read (another request won the race): read again and
    re-decide."""
