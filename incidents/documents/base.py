"""Shared building blocks of every document: fonts, styles, the A4 page with its header
(reference and title) and footer (page X of Y, generation time in Brussels, hash of the facts),
PDF metadata, and tables that break across pages with their header repeated.

DejaVu Sans ships in fonts/ and is embedded, so é, è, ë, ç, à, ô, ĳ, €, « and » all render.
"""

import hashlib
import io
import json
from decimal import Decimal
from pathlib import Path

from django.utils import timezone
from django.utils.translation import gettext as _
from reportlab.lib import colors
from reportlab.lib.enums import TA_LEFT
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen import canvas
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle
from reportlab.platypus.flowables import KeepTogether

FONTS = Path(__file__).parent / "fonts"
FONT = "DejaVuSans"
BOLD = "DejaVuSans-Bold"
ITALIC = "DejaVuSans-Oblique"

if FONT not in pdfmetrics.getRegisteredFontNames():
    for name in (FONT, BOLD, ITALIC):
        pdfmetrics.registerFont(TTFont(name, FONTS / f"{name}.ttf"))
    pdfmetrics.registerFontFamily(FONT, normal=FONT, bold=BOLD, italic=ITALIC, boldItalic=BOLD)

INK = colors.HexColor("#1d2430")
MUTED = colors.HexColor("#5b6472")
LINE = colors.HexColor("#d9dee5")
SHADE = colors.HexColor("#eef1f5")

STYLES = {
    "title": ParagraphStyle("title", fontName=BOLD, fontSize=16, leading=20, textColor=INK),
    "h1": ParagraphStyle(
        "h1", fontName=BOLD, fontSize=11.5, leading=15, spaceBefore=10, spaceAfter=4
    ),
    "body": ParagraphStyle("body", fontName=FONT, fontSize=9.5, leading=12.5, alignment=TA_LEFT),
    "letter": ParagraphStyle(
        "letter", fontName=FONT, fontSize=10, leading=14, spaceBefore=4, spaceAfter=6
    ),
    "label": ParagraphStyle("label", fontName=BOLD, fontSize=8.5, leading=11, textColor=MUTED),
    "small": ParagraphStyle("small", fontName=FONT, fontSize=8, leading=10, textColor=MUTED),
    "cell": ParagraphStyle("cell", fontName=FONT, fontSize=7.5, leading=9.5),
    "head": ParagraphStyle("head", fontName=BOLD, fontSize=7.5, leading=9.5, textColor=MUTED),
}


def facts_hash(facts):
    """SHA-256 of the facts as canonical JSON: the same facts always give the same hash."""
    encoded = json.dumps(facts, sort_keys=True, ensure_ascii=False, default=str).encode()
    return hashlib.sha256(encoded).hexdigest()


def text(value):
    """Escape for a Paragraph and keep line breaks."""
    escaped = str(value).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return escaped.replace("\n", "<br/>")


def paragraph(value, style="body"):
    return Paragraph(text(value), STYLES[style])


def local(moment, unknown=""):
    """24/10/2026 21:15 CEST: Brussels time with its zone, since a 24-hour span can cross a
    clock change (the zone's abbreviation is the same in every language)."""
    if moment is None:
        return unknown
    shown = timezone.localtime(moment)
    return f"{shown:%d/%m/%Y %H:%M} {shown.tzname()}"


# Numbers the Belgian way per language (CLDR, through Babel): nl 1.840 and 5,25; fr 1 840
# (narrow no-break space) and 5,25; en 1,840 and 5.25.
NUMBER_LOCALES = {"nl": "nl_BE", "fr": "fr_BE", "en": "en_GB"}


def number(value, unknown="", language=None):
    if value is None:
        return unknown
    from babel.numbers import format_decimal
    from django.utils import translation

    language = language or translation.get_language() or "nl"
    pattern = "#,##0"
    if isinstance(value, Decimal) and value.as_tuple().exponent < 0:
        pattern += "." + "0" * -value.as_tuple().exponent  # a score keeps its 2,00
    return format_decimal(value, format=pattern, locale=NUMBER_LOCALES.get(language[:2], "nl_BE"))


def fields_table(rows, label_width=62 * mm):
    """Label / value pairs, the way a form is filled in."""
    data = [[paragraph(label, "label"), paragraph(value)] for label, value in rows]
    # splitInRow: a value longer than a page (a long description) continues on the next one.
    table = Table(data, colWidths=[label_width, A4[0] - 36 * mm - label_width], splitInRow=1)
    table.setStyle(
        TableStyle(
            [
                ("FONT", (0, 0), (-1, -1), FONT),
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("LINEBELOW", (0, 0), (-1, -1), 0.25, LINE),
                ("TOPPADDING", (0, 0), (-1, -1), 3),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 3),
            ]
        )
    )
    return table


def section(title, rows):
    return [KeepTogether([Paragraph(text(title), STYLES["h1"]), fields_table(rows[:1])]),
            *([fields_table(rows[1:])] if rows[1:] else [])]  # fmt: skip


def data_table(header, rows, widths, plain=()):
    """A table that breaks across pages and repeats its header on each. Columns listed in
    `plain` hold short text that never wraps: drawn as strings, much faster than paragraphs."""
    data = [[paragraph(cell, "head") for cell in header]]
    data += [
        [cell if index in plain else paragraph(cell, "cell") for index, cell in enumerate(row)]
        for row in rows
    ]
    table = Table(data, colWidths=widths, repeatRows=1, splitInRow=1)
    table.setStyle(
        TableStyle(
            [
                ("FONT", (0, 0), (-1, -1), FONT, 7.5),
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("BACKGROUND", (0, 0), (-1, 0), SHADE),
                ("LINEBELOW", (0, 0), (-1, -1), 0.25, LINE),
                ("TOPPADDING", (0, 0), (-1, -1), 2),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 2),
            ]
        )
    )
    return table


class NumberedCanvas(canvas.Canvas):
    """Draws the footer after the last page, when 'page X of Y' is known."""

    def __init__(self, *args, header="", footer="", **kwargs):
        super().__init__(*args, **kwargs)
        self.header, self.footer = header, footer
        self._pages = []

    def showPage(self):  # noqa: N802 - reportlab's name
        self._pages.append(dict(self.__dict__))
        self._startPage()

    def save(self):
        total = len(self._pages)
        for state in self._pages:
            self.__dict__.update(state)
            self.decorate(total)
            super().showPage()
        super().save()

    def decorate(self, total):
        width, height = self._pagesize
        self.setFont(BOLD, 8.5)
        self.setFillColor(INK)
        self.drawString(18 * mm, height - 12 * mm, self.header)
        self.setStrokeColor(LINE)
        self.line(18 * mm, height - 14 * mm, width - 18 * mm, height - 14 * mm)
        self.line(18 * mm, 15 * mm, width - 18 * mm, 15 * mm)
        self.setFont(FONT, 7)
        self.setFillColor(MUTED)
        self.drawString(18 * mm, 11 * mm, self.footer)
        page = _("page %(page)s of %(total)s") % {"page": self._pageNumber, "total": total}
        self.drawRightString(width - 18 * mm, 11 * mm, page)


def render(story, *, title, subject, reference, language, facts_digest, pagesize=A4):
    """The PDF bytes of a story of flowables, with header, footer and metadata."""
    buffer = io.BytesIO()
    generated = timezone.localtime().strftime("%d/%m/%Y %H:%M")
    header = f"{reference} — {title}" if reference else title
    footer = _("Generated %(time)s (Europe/Brussels) · facts SHA-256 %(hash)s") % {
        "time": generated,
        "hash": facts_digest[:16],
    }
    document = SimpleDocTemplate(
        buffer,
        pagesize=pagesize,
        leftMargin=18 * mm,
        rightMargin=18 * mm,
        topMargin=20 * mm,
        bottomMargin=20 * mm,
        title=header,
        author="Conitro — breach desk",
        subject=subject,
        creator="Conitro breach desk",
        lang=language,
        initialFontName=FONT,  # so the PDF never references a font it does not embed
    )
    document.build(
        [*story, Spacer(1, 1)],
        canvasmaker=lambda *args, **kwargs: NumberedCanvas(
            *args, header=header, footer=footer, **kwargs
        ),
    )
    return buffer.getvalue()
