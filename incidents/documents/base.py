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
from reportlab.platypus.flowables import HRFlowable, KeepTogether

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
    # A heading is never left alone at the foot of a page.
    "h1": ParagraphStyle(
        "h1",
        fontName=BOLD,
        fontSize=11.5,
        leading=15,
        spaceBefore=10,
        spaceAfter=4,
        keepWithNext=1,
    ),
    "body": ParagraphStyle("body", fontName=FONT, fontSize=9.5, leading=12.5, alignment=TA_LEFT),
    "letter": ParagraphStyle(
        "letter", fontName=FONT, fontSize=10, leading=14, spaceBefore=4, spaceAfter=6
    ),
    "label": ParagraphStyle("label", fontName=BOLD, fontSize=8.5, leading=11, textColor=MUTED),
    "small": ParagraphStyle("small", fontName=FONT, fontSize=8, leading=10, textColor=MUTED),
    "cell": ParagraphStyle("cell", fontName=FONT, fontSize=7.5, leading=9.5),
    # A long value under its label, indented like the value column of fields_table.
    "long": ParagraphStyle(
        "long", fontName=FONT, fontSize=9.5, leading=12.5, leftIndent=62 * mm + 6
    ),
    "head": ParagraphStyle("head", fontName=BOLD, fontSize=7.5, leading=9.5, textColor=MUTED),
}


def facts_hash(facts):
    """SHA-256 of the facts as canonical JSON: the same facts always give the same hash."""
    encoded = json.dumps(facts, sort_keys=True, ensure_ascii=False, default=str).encode()
    return hashlib.sha256(encoded).hexdigest()


def as_markup(value):
    """Escape for a Paragraph and keep line breaks."""
    escaped = str(value).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return escaped.replace("\n", "<br/>")


def paragraph(value, style="body"):
    return Paragraph(as_markup(value), STYLES[style])


def brussels_time(moment, unknown=""):
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


# A value longer than this leaves the table: it is printed under its label as one short
# paragraph per line. reportlab re-wraps a table cell (or one long paragraph) at every page it
# splits it over, which is quadratic: 10,000 short lines in one cell took minutes. Separate
# paragraphs flow page by page in linear time.
LONG_VALUE_CHARACTERS = 1_500
LONG_VALUE_LINES = 12
# A table cell (timeline, register) prints at most this much of a text; the rest is cut with
# a note (the incident page and the CSV keep the whole text).
CELL_CHARACTERS = 1_500
CELL_LINES = 20


def is_long(value):
    value = str(value)
    return len(value) > LONG_VALUE_CHARACTERS or value.count("\n") >= LONG_VALUE_LINES


def line_paragraphs(value, style, per_paragraph=10):
    """The text as paragraphs of a few lines each, so none is ever re-wrapped at length."""
    lines = str(value).split("\n")
    return [
        Paragraph(as_markup("\n".join(lines[start : start + per_paragraph])), STYLES[style])
        for start in range(0, len(lines), per_paragraph)
    ]


def fields_table(rows, label_width=62 * mm):
    """Label / value pairs, the way a form is filled in."""
    data = [[paragraph(label, "label"), paragraph(value)] for label, value in rows]
    # splitInRow: a value longer than a page continues on the next one.
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


def fields(rows):
    """Flowables for label / value rows: short rows in tables, each long value under its label
    in paragraphs of its own (see LONG_VALUE_CHARACTERS). The first flowable holds the first row,
    so a heading can be kept with it."""
    flowables, short = [], []
    for label, value in rows:
        if not is_long(value):
            short.append((label, value))
            continue
        if short:
            flowables.append(fields_table(short))
            short = []
        first, *rest = line_paragraphs(value, "long")
        flowables += [KeepTogether([Spacer(1, 3), paragraph(label, "label"), first]), *rest]
        flowables.append(HRFlowable(width="100%", thickness=0.25, color=LINE, spaceAfter=3))
    if short:
        flowables.append(fields_table(short))
    return flowables


def section(title, rows):
    """A heading kept on the page of its first row."""
    first, *rest = fields(rows[:1])
    return [
        KeepTogether([Paragraph(as_markup(title), STYLES["h1"]), first]),
        *rest,
        *fields(rows[1:]),
    ]


def clipped(value, characters=CELL_CHARACTERS, lines=CELL_LINES):
    """A text for a table cell: cut after `characters` or `lines`, saying how much was left."""
    value = str(value)
    if len(value) <= characters and value.count("\n") < lines:
        return value
    cut = min(len(value), characters)
    position = -1
    for _line in range(lines):
        position = value.find("\n", position + 1, cut)
        if position == -1:
            break
    else:
        cut = position
    return (
        value[:cut].rstrip()
        + " "
        + _("[… %(count)s more characters: the incident page has the whole text]")
        % {"count": len(value) - cut}
    )


def data_table(header, rows, widths, plain=()):
    """A table that breaks across pages and repeats its header on each. Columns listed in
    `plain` hold short text that never wraps: drawn as strings, much faster than paragraphs."""
    data = [[paragraph(cell, "head") for cell in header]]
    data += [
        [
            cell if index in plain else paragraph(clipped(cell), "cell")
            for index, cell in enumerate(row)
        ]
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
