"""POST /gigs: a seller lists a service (a gig) at a price, in one of the operator's categories."""

from __future__ import annotations

from aws_lambda_powertools.metrics import MetricUnit

from taskboard.gigs.models import CreateGigRequest, Gig
from taskboard.http.app import Response, Router, caller_id, gigs, lambda_handler, metrics

router = Router()


@router.post("/gigs", summary="List a gig", tags=["gigs"], responses={201: {"description": "The new gig"}})
def create_gig(body: CreateGigRequest) -> Response[Gig]:
    gig = gigs().create(caller_id(router), body)
    metrics.add_metric(name="GigsListed", unit=MetricUnit.Count, value=1)
    return Response(status_code=201, content_type="application/json", body=gig)


handler = lambda_handler(router)
