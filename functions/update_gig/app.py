"""PATCH /gigs/{gig_id}: its seller changes the gig's terms, or pauses, resumes or archives it."""

from __future__ import annotations

from taskboard.gigs.models import Gig, UpdateGigRequest
from taskboard.http.app import Router, caller_id, gigs, lambda_handler

router = Router()


@router.patch("/gigs/<gig_id>", summary="Change, pause, resume or archive a gig", tags=["gigs"])
def update_gig(gig_id: str, body: UpdateGigRequest) -> Gig:
    return gigs().update(caller_id(router), gig_id, body)


handler = lambda_handler(router)
