"""The JSON API of the regional brand: its standard, producers, applications (inspection, certification and the
moves after it), the map of certified products' origin parcels, batches with their label sheets (PDF) and codes,
a batch's steps appended to its chain, and the chain as a document anyone can verify. The public part (``/api/
public/trace``) answers without login: what a scanned code says, its batch's history and chain."""

from __future__ import annotations

import csv
import io
import json
from datetime import date
from decimal import Decimal
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.orm import Session

from gep.brands import labels, rules, service
from gep.brands.models import Application, Batch, Producer
from gep.certificates import keys
from gep.certificates import service as certificates
from gep.errors import N_, InputError, PermissionDenied
from gep.kit.principal import Principal
from gep.kit.web.deps import Caller, Db, Id, LongText, Name, OptName, RowId, lang_of, needs
from gep.kit.web.errors import ERROR_RESPONSES
from gep.registry import service as registry

router = APIRouter(prefix="/api/brands", tags=["brands"], responses=ERROR_RESPONSES)
public = APIRouter(prefix="/api/public/trace", tags=["brands"], responses=ERROR_RESPONSES)
Office = Annotated[Principal, Depends(needs(service.MANAGE))]
Reader = Annotated[Principal, Depends(needs(service.READ))]
TraceCode = Annotated[str, Field(min_length=1, max_length=40)]
Amount = Annotated[Decimal, Field(gt=0, le=Decimal("1e9"), max_digits=14, decimal_places=4)]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ProducerRequest(Strict):
    name: Name
    role: Literal["grower", "processor", "trader"]
    county_code: Annotated[str, Field(max_length=40)] = ""
    organisation_id: RowId | None = None
    holder_id: RowId | None = None


class ApplicationRequest(Strict):
    producer_id: RowId
    category: Annotated[str, Field(max_length=30)]
    product: Name
    parcel_ids: list[RowId] = Field(default_factory=list, max_length=200)
    parcel_codes: list[Annotated[str, Field(min_length=1, max_length=60)]] = Field(default_factory=list,
                                                                                max_length=200)


class InspectionRequest(Strict):
    results: dict[Annotated[str, Field(max_length=30)], Annotated[str, Field(max_length=30)]] = Field(max_length=40)
    on: date | None = None
    laboratory: OptName = ""


class ActionRequest(Strict):
    action: Literal["inspect", "certify", "reject", "suspend", "reinstate", "revoke"]
    reason: LongText = ""
    version: int | None = Field(default=None, ge=1, le=2**31)


class BatchRequest(Strict):
    application_id: RowId
    quantity: Amount
    codes: int = Field(ge=1, le=service.MAX_CODES)


class StepRequest(Strict):
    kind: Literal["harvest", "processing", "inspection", "sale", "settlement"]
    on: date | None = None
    quantity: Amount | None = None
    grower: RowId | None = None
    parcel: Annotated[str, Field(max_length=60)] = ""
    process: OptName = ""
    output: Amount | None = None
    processor: RowId | None = None
    results: dict[Annotated[str, Field(max_length=30)], Annotated[str, Field(max_length=30)]] | None = Field(
        default=None, max_length=40)
    laboratory: OptName = ""
    buyer: RowId | None = None
    unit_price_yuan: Amount | None = None
    sale: int | None = Field(default=None, ge=1, le=2**31)
    amount_yuan: Amount | None = None
    reference: Annotated[str, Field(max_length=120)] = ""


def signer_of(request: Request) -> keys.Signer:
    return keys.signer(keys.key_path(request.app.state.settings.data_dir))


def base_url(request: Request) -> str:
    return str(request.app.state.settings.public_url or request.base_url)


def _t(request: Request) -> Any:
    return request.app.state.platform.catalogues.gettext(lang_of(request))


def producer_view(p: Producer) -> dict[str, Any]:
    return {"id": p.id, "name": p.name, "role": p.role, "county_code": p.county_code,
            "organisation_id": p.organisation_id, "holder_id": p.holder_id, "synthetic": p.synthetic}


def application_view(db: Session, a: Application, names: dict[int, str] | None = None) -> dict[str, Any]:
    state = rules.state_on(a.state, a.valid_until, service.today())
    cat = rules.brand().categories.get(a.category)
    producer = names.get(a.producer_id) if names is not None else None
    if producer is None:
        row = db.get(Producer, a.producer_id)
        producer = row.name if row else ""
    return {"id": a.id, "producer_id": a.producer_id, "producer": producer, "category": a.category,
            "category_zh": cat.name_zh if cat else a.category, "category_en": cat.name_en if cat else a.category,
            "product": a.product, "parcel_ids": a.parcel_ids, "state": state, "version": a.version,
            "certificate_no": a.certificate_no, "valid_from": a.valid_from.isoformat() if a.valid_from else None,
            "valid_until": a.valid_until.isoformat() if a.valid_until else None, "synthetic": a.synthetic,
            "submitted_at": service.created(a.submitted_at)}


def batch_view(db: Session, b: Batch) -> dict[str, Any]:
    a = db.get(Application, b.application_id)
    out: dict[str, Any] = {"id": b.id, "batch_no": b.batch_no, "application_id": b.application_id,
                           "product": a.product if a else "", "quantity": b.quantity, "unit": b.unit,
                           "codes": b.codes, "sold_out_on": service.sold_out_on(b), "synthetic": b.synthetic,
                           "created_at": service.created(b.created_at),
                           "remaining": str(service.remaining(db, b))}
    return out


@router.get("/standard", summary="The brand and its standards: categories, requirements, inspection items")
def standard(caller: Caller) -> dict[str, Any]:
    b = rules.brand()
    return {"code": b.code, "name_zh": b.name_zh, "name_en": b.name_en, "founded": b.founded, "owner_zh": b.owner_zh,
            "certificate_months": b.certificate_months, "digest": b.digest,
            "categories": [{"code": c.code, "name_zh": c.name_zh, "name_en": c.name_en, "unit": c.unit,
                            "requirements_zh": list(c.requirements_zh), "requirements_en": list(c.requirements_en),
                            "inspection": [{"code": i.code, "name_zh": i.name_zh, "name_en": i.name_en,
                                            "unit": i.unit, "max": i.max, "min": i.min, "standard": i.standard,
                                            "limit": i.limit_text()} for i in c.inspection]}
                           for c in b.categories.values()]}


@router.get("/producers", summary="Producers of the brand (the office and readers: all; a producer: its own)")
def list_producers(db: Db, caller: Caller) -> list[dict[str, Any]]:
    rows = service.producers(db)
    if not (caller.can(service.READ) or caller.can(service.MANAGE)):
        mine = service.my_producer_ids(db, caller)
        if not caller.can(service.TRACE):
            rows = [p for p in rows if p.id in mine]
    return [producer_view(p) for p in rows]


@router.post("/producers", status_code=201, summary="Add a producer (the office; a producer: its organisation)")
def add_producer(body: ProducerRequest, db: Db, caller: Caller) -> dict[str, Any]:
    return producer_view(service.add_producer(db, body.name, body.role, caller, body.county_code,
                                              body.organisation_id, body.holder_id))


@router.get("/applications", summary="Applications and certified products")
def list_applications(db: Db, caller: Caller) -> list[dict[str, Any]]:
    names = {p.id: p.name for p in service.producers(db)}
    return [application_view(db, a, names) for a in service.applications(db, caller)]


@router.post("/applications", status_code=201, summary="Apply to use the brand on a product")
def apply(body: ApplicationRequest, db: Db, caller: Caller) -> dict[str, Any]:
    ids = list(body.parcel_ids)
    if body.parcel_codes:
        found = registry.parcels_by_code(db, body.parcel_codes)
        missing = [c for c in body.parcel_codes if c.strip() not in found]
        if missing:
            raise InputError(N_("parcels {ids} are not in the registry"), ids=", ".join(missing))
        ids += [p.id for c in body.parcel_codes for p in found[c.strip()]]
    return application_view(db, service.apply(db, body.producer_id, body.category, body.product, ids, caller))


def _visible(db: Session, a: Application, caller: Principal) -> None:
    if not (caller.can(service.READ) or caller.can(service.MANAGE)
            or a.producer_id in service.my_producer_ids(db, caller)):
        raise PermissionDenied(N_("only the producer and the brand office see this application"))


@router.get("/applications/{application_id}", summary="An application: its history, inspections and batches")
def application(application_id: Id, db: Db, caller: Caller) -> dict[str, Any]:
    a = service.get_application(db, application_id)
    _visible(db, a, caller)
    out = application_view(db, a)
    out["history"] = [{"action": h.action, "before": h.before, "after": h.after, "reason": h.reason,
                       "at": service.created(h.at)} for h in service.history(db, a.id)]
    ins = service.last_inspection(db, a.id)
    out["inspection"] = None if ins is None else {"on": ins.on.isoformat(), "results": ins.results,
                                                  "passed": ins.passed, "failed": ins.failed,
                                                  "laboratory": ins.laboratory}
    out["batches"] = [batch_view(db, b) for b in service.batches(db, a.id)]
    out["parcels"] = [{"id": p.id, "code": p.code, "village_code": p.village_code, "area_m2": p.area_m2}
                      for p in registry.parcels_by_id(db, a.parcel_ids)]
    return out


@router.post("/applications/{application_id}/inspections", status_code=201,
             summary="Record an inspection (the office), judged against the category's limits")
def inspect(application_id: Id, body: InspectionRequest, db: Db, caller: Office) -> dict[str, Any]:
    ins = service.inspect(db, application_id, dict(body.results), caller, body.on, body.laboratory)
    return {"id": ins.id, "passed": ins.passed, "failed": ins.failed}


@router.post("/applications/{application_id}/actions", summary="Move an application (the office)")
def act(application_id: Id, body: ActionRequest, db: Db, caller: Office) -> dict[str, Any]:
    return application_view(db, service.act(db, application_id, body.action, caller, body.reason, body.version))


@router.get("/map", summary="Certified products' origin parcels (GeoJSON, WGS84)")
def product_map(db: Db, caller: Reader) -> dict[str, Any]:
    names = {p.id: p.name for p in service.producers(db)}
    features = []
    for a in service.applications(db, caller):
        state = rules.state_on(a.state, a.valid_until, service.today())
        if state not in (rules.CERTIFIED, rules.SUSPENDED):
            continue
        for p in registry.parcels_by_id(db, a.parcel_ids):
            features.append({"type": "Feature", "geometry": json.loads(p.geojson),
                             "properties": {"application_id": a.id, "product": a.product, "category": a.category,
                                            "producer": names.get(a.producer_id, ""), "state": state,
                                            "parcel": p.code, "certificate_no": a.certificate_no}})
    return {"type": "FeatureCollection", "features": features}


@router.get("/batches", summary="Batches of certified products")
def list_batches(db: Db, caller: Caller) -> list[dict[str, Any]]:
    rows = service.batches(db)
    if not (caller.can(service.READ) or caller.can(service.MANAGE)):
        mine = service.my_producer_ids(db, caller)
        apps = {a.id for a in service.applications(db, caller) if a.producer_id in mine}
        rows = [b for b in rows if b.application_id in apps or mine & service.parties(db, b)]
    return [batch_view(db, b) for b in rows]


@router.post("/batches", status_code=201, summary="Open a batch of a certified product with its label codes")
def create_batch(body: BatchRequest, request: Request, db: Db, caller: Caller) -> dict[str, Any]:
    return batch_view(db, service.create_batch(db, body.application_id, body.quantity, body.codes, caller,
                                               signer_of(request)))


def _batch_for(db: Session, batch_id: int, caller: Principal) -> Batch:
    b = service.get_batch(db, batch_id)
    if caller.can(service.READ) or caller.can(service.MANAGE):
        return b
    if not service.my_producer_ids(db, caller) & service.parties(db, b):
        raise PermissionDenied(N_("only the batch's producers and the brand office see it"))
    return b


@router.get("/batches/{batch_id}", summary="A batch: its steps, what is left, and whether its chain holds")
def batch(batch_id: Id, request: Request, db: Db, caller: Caller) -> dict[str, Any]:
    b = _batch_for(db, batch_id, caller)
    out = batch_view(db, b)
    a = service.get_application(db, b.application_id)
    out["application"] = application_view(db, a)
    out["application"]["parcel_codes"] = [p.code for p in registry.parcels_by_id(db, a.parcel_ids)]
    out["records"] = [{"seq": r.seq, "kind": r.kind, "at": r.at, "payload": r.payload, "hash": r.hash,
                       "prev": r.prev} for r in service.records(db, b.id)]
    breaks = service.verify(db, b)
    t = _t(request)
    out["chain"] = {"intact": not breaks, "breaks": [t(x.message).format(**x.params) for x in breaks]}
    out["producers"] = [producer_view(p) for p in service.producers(db)]
    first = service.first_code(db, b.id)
    out["first_code"] = first
    out["label_url"] = labels.trace_url(base_url(request), first, b.batch_no) if first else None
    return out


@router.post("/batches/{batch_id}/records", status_code=201, summary="Record a step of the batch on its chain")
def append(batch_id: Id, body: StepRequest, request: Request, db: Db, caller: Caller) -> dict[str, Any]:
    raw = body.model_dump(exclude={"kind"}, exclude_none=True)
    raw = {k: (str(v) if isinstance(v, Decimal | date) else v) for k, v in raw.items() if v != ""}
    row = service.append(db, batch_id, body.kind, raw, caller, signer_of(request))
    return {"seq": row.seq, "hash": row.hash, "kind": row.kind}


@router.get("/batches/{batch_id}/labels.pdf", response_class=Response,
            summary="A printable sheet of the batch's labels (A4, 3 × 7 labels of 63.5 × 38.1 mm)",
            responses={200: {"content": {"application/pdf": {}}, "description": "the label sheets"}})
def label_sheet(batch_id: Id, request: Request, db: Db, caller: Caller,
                first: Annotated[int, Query(ge=1, le=service.MAX_CODES)] = 1,
                count: Annotated[int, Query(ge=1, le=service.MAX_CODES)] = 21) -> Response:
    b = _batch_for(db, batch_id, caller)
    a = service.get_application(db, b.application_id)
    codes = [(c.serial, c.code) for c in service.codes_of(db, b.id) if first <= c.serial < first + count]
    body = labels.render(rules.brand().name_zh, a.product, b.batch_no, codes, base_url(request))
    return Response(body, media_type="application/pdf",
                    headers={"Content-Disposition": f'attachment; filename="{b.batch_no}-labels-{first}.pdf"'})


@router.get("/batches/{batch_id}/codes.csv", response_class=Response, summary="The batch's codes and their URLs",
            responses={200: {"content": {"text/csv": {}}, "description": "serial, code, url, scans"}})
def codes_csv(batch_id: Id, request: Request, db: Db, caller: Caller) -> Response:
    b = _batch_for(db, batch_id, caller)
    out = io.StringIO()
    w = csv.writer(out)
    w.writerow(["serial", "code", "url", "scans"])
    for c in service.codes_of(db, b.id):
        w.writerow([c.serial, c.code, labels.trace_url(base_url(request), c.code, b.batch_no), c.scans])
    return Response(out.getvalue().encode("utf-8-sig"), media_type="text/csv",
                    headers={"Content-Disposition": f'attachment; filename="{b.batch_no}-codes.csv"'})


@router.get("/batches/{batch_id}/chain.json", summary="The batch's chain, to verify with the public key")
def chain_document(batch_id: Id, db: Db, caller: Caller) -> dict[str, Any]:
    return service.export_chain(db, _batch_for(db, batch_id, caller))


# -- public ---------------------------------------------------------------------------------------------------------

@public.get("/keys", summary="The platform's public keys that sign trace chains (PEM)")
def trace_keys(db: Db) -> list[dict[str, str]]:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
    from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

    return [{"key_id": k, "pem": Ed25519PublicKey.from_public_bytes(raw).public_bytes(
        Encoding.PEM, PublicFormat.SubjectPublicKeyInfo).decode()} for k, raw in certificates.known_keys(db).items()]


@public.get("/{code}", summary="What a scanned code says, and its batch's history (no login)")
def trace(code: TraceCode, request: Request, db: Db,
          b: Annotated[str, Query(max_length=40)] = "") -> dict[str, Any]:
    result = service.scan(db, code, b)
    t = _t(request)
    out: dict[str, Any] = {"code": code, "verdicts": result.verdicts,
                           "genuine": result.verdicts == [service.GENUINE],
                           "refused": bool({service.UNKNOWN, service.OTHER_BATCH} & set(result.verdicts))}
    batch_row = result.batch
    out["messages"] = [t(service.VERDICTS[v]).format(date=service.sold_out_on(batch_row) if batch_row else "",
                                                     n=result.code.scans if result.code else 0)
                       for v in result.verdicts]
    if batch_row is None or result.code is None:
        return out
    a = service.get_application(db, batch_row.application_id)
    producer = db.get(Producer, a.producer_id)
    cat = rules.brand().categories.get(a.category)
    out.update({"batch_no": batch_row.batch_no, "product": a.product, "category_zh": cat.name_zh if cat else "",
                "category_en": cat.name_en if cat else "", "producer": producer.name if producer else "",
                "certificate_no": a.certificate_no, "valid_until": a.valid_until.isoformat() if a.valid_until else None,
                "certificate_state": rules.state_on(a.state, a.valid_until, service.today()),
                "quantity": batch_row.quantity, "unit": batch_row.unit, "serial": result.code.serial,
                "scans": result.code.scans, "sold_out_on": service.sold_out_on(batch_row),
                "synthetic": batch_row.synthetic,
                "history": [service.public_record(r) for r in service.records(db, batch_row.id)],
                "breaks": [t(x.message).format(**x.params) for x in (result.breaks or [])]})
    return out
