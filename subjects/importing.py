"""The people to inform, from a CSV file: e-mail, name, language (a header line; `;` or `,`).

Every line is checked (an e-mail address; a name on one line, 200 characters at most; nl, fr
or en, empty for the controller's language); an address listed twice, in the file or already
among the recipients, is kept once and counted. A file with any error adds nobody and says
which lines are wrong; the addresses never go to the logs.
"""

import csv
import io

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.utils.translation import gettext as _

from incident_manager import languages
from incidents.controller_import import csv_text

from .models import Communication, Recipient

COLUMNS = ["email", "name", "language"]
MAX_BYTES = 40 * 1024 * 1024
MAX_ROWS = 500_000
MAX_ERRORS = 100
NAME_LENGTH = 200
SAVED_AT_ONCE = 5_000


def rows_of(content):
    text, delimiter = csv_text(content, MAX_BYTES)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        header = [name.strip().lower() for name in next(reader, [])]
        if "email" not in header:
            raise ValidationError(
                _("The header line needs the column email (and may have name and language).")
            )
        where = {name: header.index(name) for name in COLUMNS if name in header}
        for row in reader:
            if reader.line_num > MAX_ROWS + 1:
                raise ValidationError(_("More than 500,000 people: split the file."))
            if any(cell.strip() for cell in row):
                yield (
                    reader.line_num,
                    {
                        name: row[index].strip() if index < len(row) else ""
                        for name, index in where.items()
                    },
                )
    except csv.Error as error:
        raise ValidationError(
            _("Line %(line)s cannot be read as CSV (%(error)s): check its quotes and length.")
            % {"line": reader.line_num + 1, "error": error}
        ) from error


def checked(content, default_language, known):
    """(recipients to add, duplicates skipped) or a ValidationError listing the wrong lines.
    known: the addresses (lower case) already among the recipients."""
    errors, new, duplicates = [], [], 0
    seen = set(known)
    for line, row in rows_of(content):
        email, name = row.get("email", ""), row.get("name", "")
        language = (row.get("language", "") or default_language).lower()
        problem = None
        try:
            validate_email(email)
        except ValidationError:
            problem = _("“%(value)s” is not an e-mail address.") % {"value": email[:60]}
        if problem is None and (len(name) > NAME_LENGTH or "\n" in name or "\r" in name):
            problem = _("The name is longer than 200 characters or has several lines.")
        if problem is None and language not in languages.CODES:
            problem = _("The language must be nl, fr or en, not “%(value)s”.") % {
                "value": language[:10]
            }
        if problem:
            errors.append(_("Line %(line)s: %(problem)s") % {"line": line, "problem": problem})
            if len(errors) >= MAX_ERRORS:
                errors.append(
                    _("… and more: the first %(count)s are shown.") % {"count": MAX_ERRORS}
                )
                break
            continue
        address = email.lower()
        if address in seen:
            duplicates += 1
            continue
        seen.add(address)
        new.append((email, name, language))
    if errors:
        raise ValidationError(errors)
    if not new and not duplicates:
        raise ValidationError(_("The file has a header line but nobody in it."))
    return new, duplicates


def add(communication_id, content):
    """Add the file's people to a draft communication: (added, duplicates skipped)."""
    with transaction.atomic():
        communication = Communication.objects.select_for_update().get(pk=communication_id)
        if communication.status != Communication.Status.DRAFT:
            raise ValidationError(_("The communication is being sent: nobody can be added now."))
        known = {
            address.lower()
            for address in communication.recipients.values_list("email", flat=True).iterator()
        }
        new, duplicates = checked(content, communication.controller.language, known)
        Recipient.objects.bulk_create(
            (
                Recipient(communication=communication, email=email, name=name, language=language)
                for email, name, language in new
            ),
            batch_size=SAVED_AT_ONCE,
        )
    return len(new), duplicates
