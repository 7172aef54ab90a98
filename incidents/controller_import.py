"""Controllers imported from a CSV file: all or nothing.

Every line is checked as the controller form checks it (the enterprise number's check digits,
the e-mail address, the phone number, the language); every error is reported with its line
number; and only a file without any error is saved, in one transaction, each controller
created or updated (matched on its enterprise number) and recorded in the audit trail.

Columns (a header line, `;` or `,` between fields, UTF-8 as Excel saves it):
name, enterprise_number, address, contact_person, email, phone, and optionally language (nl,
fr, en), salutation, dpo_name, dpo_email, gba_on_behalf and subjects_informed_by_conitro
(yes/no, ja/nee, oui/non, 1/0), activities (ids or names of processing activities, separated
by |).
"""

import csv
import io

from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.utils.translation import gettext as _

from . import reference_audit
from .forms import ControllerForm
from .identifiers import normalize_enterprise_number
from .models import Controller, ProcessingActivity

REQUIRED = ["name", "enterprise_number", "address", "contact_person", "email", "phone"]
OPTIONAL = [
    "salutation",
    "language",
    "dpo_name",
    "dpo_email",
    "gba_on_behalf",
    "subjects_informed_by_conitro",
    "activities",
]
BOOLEANS = {"gba_on_behalf", "subjects_informed_by_conitro"}
YES = {"yes", "ja", "oui", "1", "true", "y", "j", "x"}
NO = {"no", "nee", "non", "0", "false", "n", ""}
MAX_BYTES = 10 * 1024 * 1024
MAX_ROWS = 20_000
MAX_ERRORS = 200  # a file with the wrong layout fails on every line: say so, not 5,000 times


def csv_text(content, max_bytes):
    """The text of a CSV file as Excel saves it (UTF-8, perhaps with its BOM) and the
    delimiter its first line uses (`;` or `,`), or a ValidationError that says what to do."""
    if len(content) > max_bytes:
        raise ValidationError(
            _("The file is larger than %(size)s MB: split it.")
            % {"size": max_bytes // (1024 * 1024)}
        )
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise ValidationError(
            _("The file is not UTF-8 text: in Excel, save it as “CSV UTF-8”.")
        ) from error
    first = text.split("\n", 1)[0]
    return text, ";" if first.count(";") >= first.count(",") else ","


def read(content):
    """(header, rows with their line numbers) from the file's bytes, or a ValidationError."""
    text, delimiter = csv_text(content, MAX_BYTES)
    reader = csv.DictReader(io.StringIO(text, newline=""), delimiter=delimiter)
    header = [name.strip().lower() for name in reader.fieldnames or []]
    missing = [name for name in REQUIRED if name not in header]
    if missing:
        raise ValidationError(
            _("The header line lacks the columns %(missing)s (it needs %(required)s).")
            % {"missing": ", ".join(missing), "required": ", ".join(REQUIRED)}
        )
    reader.fieldnames = header
    rows = []
    try:
        for row in reader:
            if len(rows) >= MAX_ROWS:
                raise ValidationError(_("More than 20,000 controllers: split the file."))
            if any((value or "").strip() for value in row.values() if isinstance(value, str)):
                rows.append((reader.line_num, row))
    except csv.Error as error:
        # A field over the csv module's limit (131,072 characters), or a stray quote.
        raise ValidationError(
            _("Line %(line)s cannot be read as CSV (%(error)s): check its quotes and length.")
            % {"line": reader.line_num + 1, "error": error}  # the line being read
        ) from error
    if not rows:
        raise ValidationError(_("The file has a header line but no controllers."))
    return rows


def activities_by_name():
    names = {}
    for activity in ProcessingActivity.objects.all():
        names[str(activity.pk)] = activity
        for name in (activity.name_nl, activity.name_fr, activity.name_en):
            names[name.strip().lower()] = activity
    return names


def check(rows):
    """The forms to save, or a ValidationError listing every line's errors."""
    existing = {c.enterprise_number: c for c in Controller.objects.filter(is_conitro=False)}
    known_activities = activities_by_name()
    errors, forms, seen = [], [], {}
    for line, row in rows:
        data = {name: (row.get(name) or "").strip() for name in REQUIRED + OPTIONAL}
        data["language"] = data["language"].lower() or "nl"
        problems = []
        for name in BOOLEANS:
            value = data[name].lower()
            if name == "gba_on_behalf" and value == "":
                value = "yes"  # the privacy policy's promise: Conitro notifies for them
            if value not in YES | NO:
                problems.append(
                    column(name)
                    + _("write yes or no (you wrote %(value)s).") % {"value": data[name]}
                )
            data[name] = "on" if value in YES else ""
        activities = []
        for name in filter(None, (part.strip() for part in data.pop("activities").split("|"))):
            activity = known_activities.get(name.lower())
            if activity is None:
                problems.append(
                    column("activities")
                    + _("no processing activity is called %(name)s.") % {"name": name}
                )
            else:
                activities.append(activity.pk)
        data["activities"] = activities
        number = normalize_enterprise_number(data["enterprise_number"])
        if number in seen:
            problems.append(
                _("enterprise number %(number)s is also on line %(line)s.")
                % {"number": data["enterprise_number"], "line": seen[number]}
            )
        seen.setdefault(number, line)
        form = ControllerForm(data, instance=existing.get(number))
        form.validate_unique = lambda: None  # checked above against every controller at once
        if not form.is_valid():
            for field, messages in form.errors.items():
                problems += [f"{column(field)}{message}" for message in messages]
        if problems:
            errors.append(
                _("Line %(line)s: %(problems)s") % {"line": line, "problems": "; ".join(problems)}
            )
        else:
            forms.append(form)
    if errors:
        shown = errors[:MAX_ERRORS]
        if len(errors) > MAX_ERRORS:
            shown.append(
                _("… and %(count)s more lines with errors.") % {"count": len(errors) - MAX_ERRORS}
            )
        raise ValidationError(shown)
    return forms


def import_controllers(user, content):
    """Save every controller of the file, or none: (created, updated). New controllers are
    inserted in batches with their audit records (20,000 lines one by one took minutes);
    changed ones are saved one by one, each with its before and after."""
    forms = check(read(content))
    new = [form for form in forms if form.instance.pk is None]
    changed = [form for form in forms if form.instance.pk is not None]
    with transaction.atomic():
        controllers = Controller.objects.bulk_create(
            [form.save(commit=False) for form in new], batch_size=BATCH
        )
        if connection.features.can_return_rows_from_bulk_insert is False:
            numbers = [c.enterprise_number for c in controllers]
            ids = dict(
                Controller.objects.filter(enterprise_number__in=numbers).values_list(
                    "enterprise_number", "pk"
                )
            )
            for controller in controllers:
                controller.pk = ids[controller.enterprise_number]
        links = [
            Controller.activities.through(controller_id=form.instance.pk, processingactivity=a)
            for form in new
            for a in form.cleaned_data["activities"]
        ]
        Controller.activities.through.objects.bulk_create(links, batch_size=BATCH)
        reference_audit.record_added(
            user,
            controllers,
            {
                form.instance: {"activities": [a.pk for a in form.cleaned_data["activities"]]}
                for form in new
            },
        )
        for form in changed:
            before = reference_audit.snapshot(form.instance)
            form.save()
            reference_audit.record(user, form.instance, before)
    return len(new), len(changed)


BATCH = 500


def column(name):
    """A column as the person reads it: its name in the file, and what it is in their
    language ("enterprise_number (KBO/BCE number): …")."""
    field = ControllerForm.base_fields.get(name)
    label = str(field.label) if field is not None and field.label else ""
    if not label or label.lower() == name.replace("_", " "):
        return f"{name}: "
    return f"{name} ({label}): "
