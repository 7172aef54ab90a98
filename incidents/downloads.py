"""Document downloads, for the web pages and the API alike.

Who may download what follows the roles: the DPO and managers everything; security staff the
documents of incidents, not the register. Every download is recorded (DocumentDownload, and
an event in the incident's timeline).
"""

from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _

from .documents.register import build_register_pdf, csv_lines, register_digest
from .documents.store import current_document, record_download, store
from .forms import RegisterFilterForm
from .models import LANGUAGES, Document, Incident, RegimeRule, State

LANGUAGE_CODES = [code for code, _label in LANGUAGES]


def language_of(params, user):
    language = params.get("lang") or user.language or "nl"
    if language not in LANGUAGE_CODES:
        raise ValidationError(
            {"lang": _("Choose nl, fr or en (you asked for %(value)s).") % {"value": language}}
        )
    return language


def attachment(document):
    return HttpResponse(
        bytes(document.content),
        content_type="application/pdf",
        headers={"Content-Disposition": f'attachment; filename="{document.filename}"'},
    )


def downloadable(user, pk):
    """The incident whose documents this person may download."""
    if not user.has_perm("incidents.view_incident"):
        raise PermissionDenied(_("Your role may not download incident documents."))
    return get_object_or_404(Incident.objects.select_related("created_by"), pk=pk)


def incident_document(user, params, pk, kind):
    incident = downloadable(user, pk)
    language = language_of(params, user)
    if kind == Document.Kind.GBA_NOTIFICATION and incident.state == State.DISMISSED:
        # Before the assessment it is an initial notification (art. 33(4)): what is known,
        # and "not known yet" for the rest. A dismissed incident is no breach to notify.
        raise ValidationError(
            _(
                "%(reference)s was dismissed as not a personal-data breach: there is nothing "
                "to notify."
            )
            % {"reference": incident.reference}
        )
    controller = None
    if kind == Document.Kind.GBA_NOTIFICATION:
        controller = notification_for(incident, params.get("controller"))
    document = current_document(incident, kind, language, user, controller)
    record_download(document, user)
    return attachment(document)


def regime_document(user, params, pk, rule_id):
    """The summary of a report another regime asks for, once that report is owed."""
    incident = downloadable(user, pk)
    rule = get_object_or_404(RegimeRule.objects.select_related("regime"), pk=rule_id)
    if not incident.obligations.filter(rule=rule).exists():
        raise ValidationError(_("This report is not owed for %(reference)s.") % {
            "reference": incident.reference
        })  # fmt: skip
    document = current_document(
        incident, Document.Kind.REGIME_SUMMARY, language_of(params, user), user, rule=rule
    )
    record_download(document, user)
    return attachment(document)


class NoMandate(Exception):
    """A notification in the name of a controller that notifies the GBA itself: filing it
    would disclose that controller's breach without its consent (409)."""


def notification_for(incident, asked):
    """The controller a GBA notification is for (None: the combined one, with an annex of the
    mandated controllers), refused where Conitro has no mandate."""
    if asked:
        controller = incident.controllers.filter(pk=parse_id(asked)).first()
        if controller is None:
            raise ValidationError(
                {"controller": _("This incident does not affect that controller.")}
            )
    elif incident.controllers.count() == 1 and incident.controllers.get().is_conitro:
        return incident.controllers.get()  # Conitro's own data only: it notifies as controller
    elif incident.gba_combined or incident.controllers.filter(is_conitro=False).count() != 1:
        if (
            incident.controllers.filter(is_conitro=False).exists()
            and not incident.controllers.filter(gba_on_behalf=True).exists()
        ):
            raise NoMandate(
                _(
                    "No controller of %(reference)s lets Conitro notify the GBA for it: each "
                    "notifies the GBA itself. Its letter carries the facts in the order of the "
                    "GBA's form."
                )
                % {"reference": incident.reference}
            )
        return None
    else:
        controller = incident.controllers.get(is_conitro=False)
    if not (controller.gba_on_behalf or controller.is_conitro):
        raise NoMandate(
            _(
                "%(name)s notifies the GBA itself (its processing agreement gives Conitro no "
                "mandate): Conitro may not file in its name. Send it its letter, which carries "
                "the facts in the order of the GBA's form."
            )
            % {"name": controller.name}
        )
    return controller


def parse_id(value):
    if isinstance(value, str) and value.isascii() and value.isdigit() and len(value) < 10:
        return int(value)
    raise ValidationError({"controller": _("A controller is chosen by its number (id).")})


def register_filters(params):
    form = RegisterFilterForm(
        {"start": params.get("from"), "end": params.get("to"), "state": params.get("state")}
    )
    if not form.is_valid():
        names = {"start": "from", "end": "to"}
        raise ValidationError({names.get(k, k): v for k, v in form.errors.items()})
    return {k: v for k, v in form.cleaned_data.items() if v}


def register_document(user, params, file_format):
    if not user.has_perm("incidents.download_register"):
        raise PermissionDenied(_("Only managers and the DPO may download the breach register."))
    filters = register_filters(params)
    language = language_of(params, user)
    incidents = Incident.objects.register(**filters)
    shown = {k: str(v) for k, v in filters.items()}
    digest = register_digest(incidents, shown)
    if file_format == "csv":
        return stream_csv(user, incidents, language, shown, digest)
    earlier = Document.objects.filter(
        incident=None, kind=Document.Kind.REGISTER_PDF, language=language
    )
    document = earlier.filter(facts_sha256=digest).order_by("-version").first()
    if document is None:
        document = store(
            build_register_pdf(incidents, language, shown, digest),
            incident=None,
            controller=None,
            kind=Document.Kind.REGISTER_PDF,
            language=language,
            version=earlier.count() + 1,
            facts_sha256=digest,
            filters=shown,
            created_by=user,
        )
    record_download(document, user)
    return attachment(document)


def stream_csv(user, incidents, language, shown, digest):
    """Rows go out as they are read, never all in memory. The download is recorded before
    the first byte, so an aborted download is in the audit trail too: the record holds the
    filters and the digest of every incident version the file contains (its bytes are not
    kept; the same filters give the same rows again for the same versions)."""
    earlier = Document.objects.filter(kind=Document.Kind.REGISTER_CSV, language=language)
    document = Document.objects.create(
        incident=None,
        controller=None,
        kind=Document.Kind.REGISTER_CSV,
        language=language,
        version=earlier.count() + 1,
        facts_sha256=digest,
        sha256="",  # streamed: not known before the last row, and not kept
        size=0,
        content=None,
        filters=shown,
        created_by=user,
    )
    record_download(document, user)

    def lines():
        for line in csv_lines(incidents, language):
            yield line.encode("utf-8")

    return StreamingHttpResponse(
        lines(),
        content_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": 'attachment; filename="breach-register.csv"'},
    )
