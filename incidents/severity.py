"""ENISA severity of a personal-data breach (ENISA 2013): SE = DPC x EI + CB.

DPC: data processing context, 1 (simple) to 4 (sensitive), which context may move within 1-4.
EI: ease of identification, 0.25 to 1. CB: circumstances of the breach, added up.
"""

from dataclasses import dataclass
from decimal import Decimal

from django.utils.translation import gettext_lazy as _

DPC_CATEGORIES = [
    (1, _("Simple (contact, biographical data)")),
    (2, _("Behavioural (location, traffic, habits)")),
    (3, _("Financial (income, transactions, cards)")),
    (4, _("Sensitive (health, political opinions, sexual life)")),
]
EASE_OF_IDENTIFICATION = [
    (Decimal("0.25"), _("Negligible")),
    (Decimal("0.50"), _("Limited")),
    (Decimal("0.75"), _("Significant")),
    (Decimal("1.00"), _("Maximum")),
]
CONFIDENTIALITY_CIRCUMSTANCES = [
    (Decimal("0.00"), _("No evidence of illegal processing")),
    (Decimal("0.25"), _("Exposed to known recipients, limited in number")),
    (Decimal("0.50"), _("Exposed to an unknown number of recipients, or public")),
]
INTEGRITY_CIRCUMSTANCES = [
    (Decimal("0.00"), _("Not altered, or altered and recovered")),
    (Decimal("0.25"), _("Altered, can be recovered")),
    (Decimal("0.50"), _("Altered, cannot be recovered")),
]
AVAILABILITY_CIRCUMSTANCES = [
    (Decimal("0.00"), _("Data can be recovered without difficulty")),
    (Decimal("0.25"), _("Temporarily unavailable")),
    (Decimal("0.50"), _("Permanently unavailable")),
]
MALICIOUS_INTENT = Decimal("0.50")

BANDS = {
    "low": _("Low"),
    "medium": _("Medium"),
    "high": _("High"),
    "very_high": _("Very high"),
}


@dataclass(frozen=True)
class Severity:
    score: Decimal
    band: str
    circumstances: Decimal = Decimal(0)

    @property
    def band_label(self):
        return BANDS[self.band]


def band_for(score):
    if score < 2:
        return "low"
    if score < 3:
        return "medium"
    if score < 4:
        return "high"
    return "very_high"


def severity(dpc, ease_of_identification, confidentiality, integrity, availability, malicious):
    """The score and band; inputs are Decimals (or ints) from the tables above."""
    dpc = Decimal(dpc)
    if not Decimal(1) <= dpc <= Decimal(4):
        raise ValueError(f"DPC must lie within 1 and 4, got {dpc}")
    circumstances = Decimal(confidentiality) + Decimal(integrity) + Decimal(availability)
    if malicious:
        circumstances += MALICIOUS_INTENT
    score = (dpc * Decimal(ease_of_identification) + circumstances).quantize(Decimal("0.01"))
    return Severity(
        score=score, band=band_for(score), circumstances=circumstances.quantize(Decimal("0.01"))
    )
