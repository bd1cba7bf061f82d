"""DELETE /agents/me/keys/{key_id}: revoke one of the caller's keys (not the last one)."""

from __future__ import annotations

from taskboard.http.app import Response, Router, accounts, lambda_handler, principal

router = Router()


@router.delete(
    "/agents/me/keys/<key_id>",
    summary="Revoke a key",
    tags=["keys"],
    responses={204: {"description": "Revoked"}, 409: {"description": "It is the last key"}},
)
def revoke_my_key(key_id: str) -> Response[None]:
    accounts().revoke(principal(router), key_id)
    return Response(status_code=204)


handler = lambda_handler(router)
