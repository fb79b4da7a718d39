"""The JSON API of rewards (奖补一策达): the policies, rounds computed within a budget, approved (posted to the
ledger once) and rechecked against the accounts, and a round's notice as a PDF (zh or en)."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict, Field

from gep.assessment import notice, rewards, service
from gep.assessment.api import Reader
from gep.kit.principal import Principal
from gep.kit.web.deps import Code, Db, Id, RowId, needs
from gep.kit.web.errors import ERROR_RESPONSES
from gep.regions import service as regions

router = APIRouter(prefix="/api/assessment/rewards", tags=["assessment"], responses=ERROR_RESPONSES)
Office = Annotated[Principal, Depends(needs(service.MANAGE))]


class RoundRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    policy: Code
    region_id: RowId
    year: int = Field(ge=1990, le=2100)
    budget_yuan: Annotated[Decimal, Field(ge=0, le=Decimal("1e11"), max_digits=14, decimal_places=2)] | None = None


@router.get("/policies", summary="The reward policies installed: basis, level, rate, floor, cap, budget, source")
def list_policies(db: Db, caller: Reader) -> list[dict[str, Any]]:
    return [rewards.policy_view(p) for p in rewards.policies(db)]


@router.get("/rounds", summary="Reward rounds (drafts and approved)")
def list_rounds(db: Db, caller: Reader) -> list[dict[str, Any]]:
    return [{"id": r.id, "policy": r.policy_version, "region_id": r.region_id, "year": r.year, "status": r.status,
             "budget_fen": r.budget_fen, "total_fen": r.total_fen, "synthetic": r.synthetic}
            for r in rewards.rounds(db)]


@router.post("/rounds", summary="Compute (or recompute) a round: each zone's amount, the budget allocated")
def compute(body: RoundRequest, db: Db, caller: Office) -> dict[str, Any]:
    budget = None if body.budget_yuan is None else int(body.budget_yuan * 100)
    row = rewards.compute_round(db, body.policy, body.region_id, body.year, caller, budget)
    return rewards.round_view(db, row)


@router.get("/rounds/{round_id}", summary="A round with every zone's basis, amount and payment")
def get_round(round_id: Id, db: Db, caller: Reader) -> dict[str, Any]:
    return rewards.round_view(db, rewards.get_round(db, round_id))


@router.post("/rounds/{round_id}/approve", summary="Approve a round: the payments posted to the ledger once")
def approve(round_id: Id, db: Db, caller: Office) -> dict[str, Any]:
    row, posted = rewards.approve(db, round_id, caller)
    return {**rewards.round_view(db, row), "posted": posted}


@router.get("/rounds/{round_id}/recheck", summary="The round computed again from the accounts as they are now")
def recheck(round_id: Id, db: Db, caller: Reader) -> dict[str, Any]:
    return rewards.recheck(db, round_id)


@router.get("/rounds/{round_id}/notice.pdf", response_class=Response, summary="The round's notice (PDF)",
            responses={200: {"content": {"application/pdf": {}}, "description": "the notice"}})
def notice_pdf(round_id: Id, db: Db, caller: Reader,
               lang: Annotated[str, Query(pattern="^(zh|en)$")] = "zh") -> Response:
    row = rewards.get_round(db, round_id)
    region = regions.get_region(db, row.region_id)
    name = region.name if lang == "zh" else (region.name_en or region.name)
    body = notice.pdf(rewards.round_view(db, row), name, lang)
    return Response(body, media_type="application/pdf",
                    headers={"Content-Disposition": f'attachment; filename="rewards_{row.year}_{row.id}_{lang}.pdf"'})
