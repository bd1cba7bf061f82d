"""The API's Lambda authorizer (REQUEST type): the one place an API key is checked.

A key in `x-api-key` or `Authorization: Bearer` is looked up by its SHA-256 (taskboard.accounts.keys.KeyLookup, cached
in the container for AUTHORIZER_CACHE_SECONDS). A valid key is allowed, with its account id, role, key id and
owner handed to the handler in the request context; a request without a key is allowed as anonymous (the
handler decides whether its endpoint needs one); a malformed, unknown or revoked key is refused with 401
before any handler runs; two different keys in the two headers are let through with a refusal the handler
answers with 400 (an authorizer cannot answer 400). API Gateway's own authorizer cache is off: it needs every
identity source present, and a caller may use either header or none (README: "Keys")."""

from __future__ import annotations

import os
from typing import Any

from aws_lambda_powertools import Logger

from taskboard.accounts.keys import REFUSAL_CONTEXT, ConflictingKeys, key_from_headers, key_lookup
from taskboard.core import coldstart
from taskboard.core.errors import Unauthorized

# Only what checking a key needs: the authorizer runs before every request, so its cold start is on everyone's
# path (no tracer, no task board, no pydantic models).
logger = Logger(service=os.environ.get("POWERTOOLS_SERVICE_NAME", "agent-task-board"))


def _policy(principal: str, method_arn: str, context: dict[str, str]) -> dict[str, Any]:
    return {
        "principalId": principal,
        "policyDocument": {
            "Version": "2012-10-17",
            "Statement": [{"Action": "execute-api:Invoke", "Effect": "Allow", "Resource": method_arn}],
        },
        "context": context,
    }


@logger.inject_lambda_context(clear_state=True)
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    method_arn = str(event.get("methodArn", "*"))
    try:
        key = key_from_headers(event.get("headers"))
    except ConflictingKeys:
        logger.info("two different keys in one request")
        return _policy("anonymous", method_arn, REFUSAL_CONTEXT)
    if key is None:
        return _policy("anonymous", method_arn, {"role": "anonymous"})
    try:
        caller = key_lookup().caller(key)
    except Unauthorized:
        logger.info("refused an invalid API key")  # never the key itself
        raise Exception("Unauthorized") from None
    logger.append_keys(account_id=caller.account_id, key_id=caller.key_id)
    return _policy(caller.account_id, method_arn, caller.context())


coldstart.done()  # the module is built: garbage collection back on (taskboard/core/coldstart.py)
