"""GET /gigs/{gig_id}: one gig with its seller's record, its rating and its order count."""

from __future__ import annotations

from taskboard.gigs.models import Gig
from taskboard.http.app import Router, gigs, lambda_handler, optional_caller

router = Router()


@router.get("/gigs/<gig_id>", summary="Get a gig", tags=["gigs"])
def get_gig(gig_id: str) -> Gig:
    return gigs().get(gig_id, optional_caller(router))


handler = lambda_handler(router, access="optional")
