"""Verification of a signed report: everything recomputed from what is stored now.

Checked: the canonical form stored at signing still hashes to the signed hash; the report as it
stands now (its fields, each photo by the hash of its bytes) renders to that same canonical form;
the signature image's bytes still have the hash the signature names; the signature's binding hash
(report hash, signer, time, place, image, strokes) still holds; the archived PDF's bytes still
have their recorded hash. Every difference is named by field.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from completion import canonical, signing
from completion.errors import ReportNotSigned
from core.identity.roles import Actor
from offline_sync.models import SyncBlob


@dataclass
class Verdict:
    report_id: uuid.UUID
    version: int
    valid: bool
    signed_hash: str
    current_hash: str
    differences: list[dict[str, Any]] = field(default_factory=list)


async def verify(session: AsyncSession, actor: Actor, report_id: uuid.UUID) -> Verdict:
    report = await signing.readable(session, actor, report_id)
    signature = await signing.signature_of(session, report.id)
    if report.status != "signed" or signature is None or report.signed_canonical is None:
        raise ReportNotSigned("Only a signed report can be verified", current_status=report.status)
    assert report.signed_hash is not None
    found: list[dict[str, Any]] = []
    stored = report.signed_canonical
    if hashlib.sha256(stored.encode()).hexdigest() != report.signed_hash:
        found.append({"field": "signed_canonical", "signed": report.signed_hash, "now": "altered"})
    current, now_hash = await signing.current_hash(session, report)
    found += canonical.differences(json.loads(stored), canonical.normalise(current))
    if signature.report_hash != report.signed_hash:
        found.append(
            {"field": "signature.report_hash", "signed": report.signed_hash, "now": signature.report_hash}
        )
    image_hash = None
    if signature.image_sha256 is not None:
        blob = await session.get(SyncBlob, signature.image_sha256)
        image_hash = hashlib.sha256(blob.data).hexdigest() if blob else None
        if image_hash != signature.image_sha256:
            found.append({"field": "signature.image", "signed": signature.image_sha256, "now": image_hash})
    if canonical.digest(signing.binding(signature, image_hash)) != signature.binding_hash:
        found.append({"field": "signature.binding_hash", "signed": signature.binding_hash, "now": "differs"})
    archive = await signing.archive_of(session, report.id)
    if archive is not None:
        pdf_hash = hashlib.sha256(archive.pdf).hexdigest()
        if pdf_hash != archive.sha256:
            found.append({"field": "archive.pdf", "signed": archive.sha256, "now": pdf_hash})
    return Verdict(
        report_id=report.id,
        version=report.version,
        valid=not found and now_hash == report.signed_hash,
        signed_hash=report.signed_hash,
        current_hash=now_hash,
        differences=found,
    )
