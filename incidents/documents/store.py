"""Generated documents are stored, versioned and hashed; every download is audited.

`current_document` returns the stored version when the facts have not changed since it was
made, and makes the next version when they have. Versions are never overwritten.
"""

import hashlib

from django.db import IntegrityError, transaction

from .. import ports
from ..models import Document, DocumentDownload, IncidentEvent
from .base import facts_hash
from .facts import incident_facts


def builder(kind):
    from .gba import build_gba_notification
    from .notice import build_controller_notice
    from .regime import build_regime_summary
    from .report import build_incident_report

    return {
        Document.Kind.GBA_NOTIFICATION: build_gba_notification,
        Document.Kind.REPORT: build_incident_report,
        Document.Kind.CONTROLLER_NOTICE: build_controller_notice,
        Document.Kind.REGIME_SUMMARY: build_regime_summary,
    }[kind]


def current_document(incident, kind, language, user, controller=None, facts_digest=None, rule=None):
    """facts_digest: the hash of the incident's facts when the caller already has it (5,000
    notices of one incident share it; hashing the facts 5,000 times would be most of the work).
    A controller's document hashes the incident's facts with the controller."""
    if facts_digest is None:
        facts = incident_facts(incident)
        if kind == Document.Kind.REPORT:
            # The report also prints every message and document: new ones make a new version.
            facts["messages"] = ports.paging.message_states(incident)
            facts["documents"] = list(
                incident.documents.exclude(kind=kind).values_list("pk", flat=True)
            )
        facts_digest = facts_hash(facts)
    digest = facts_hash([facts_digest, controller.pk]) if controller else facts_digest
    if rule is not None:  # the report's own state (made, when, its reference) is printed
        obligation = incident.obligations.filter(rule=rule).values_list(
            "status", "met_at", "reference", "deadline_at"
        )
        digest = facts_hash([digest, rule.pk, [list(row) for row in obligation]])
    versions = Document.objects.filter(
        incident=incident, kind=kind, language=language, controller=controller, rule=rule
    )
    latest = versions.order_by("-version").first()
    if latest and latest.facts_sha256 == digest:
        return latest
    build = builder(kind)
    if controller is not None:
        content = build(incident, language, controller, facts_digest=digest)
    elif rule is not None:
        content = build(incident, language, rule, facts_digest=digest)
    else:
        content = build(incident, language, facts_digest=digest)
    return store(
        content,
        incident=incident,
        controller=controller,
        rule=rule,
        kind=kind,
        language=language,
        version=(latest.version + 1) if latest else 1,
        facts_sha256=digest,
        created_by=user,
    )


def store(content, **fields):
    document = Document(
        content=content, sha256=hashlib.sha256(content).hexdigest(), size=len(content), **fields
    )
    try:
        with transaction.atomic():
            document.save()
    except IntegrityError:
        # Someone stored this version a moment ago from the same facts: use theirs.
        return Document.objects.get(
            incident=fields["incident"],
            controller=fields.get("controller"),
            rule=fields.get("rule"),
            kind=fields["kind"],
            language=fields["language"],
            version=fields["version"],
        )
    return document


def record_download(document, user):
    DocumentDownload.objects.create(document=document, user=user)
    if document.incident_id:
        IncidentEvent.objects.create(
            incident=document.incident,
            actor=user,
            kind=IncidentEvent.Kind.DOCUMENT_DOWNLOADED,
            after={
                "document": document.kind,
                "language": document.language,
                "version": document.version,
                "sha256": document.sha256,
            },
        )
