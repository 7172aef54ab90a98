"""ENISA 2013 severity: SE = DPC x EI + CB, and its bands."""

from decimal import Decimal as D

import pytest

from incidents.severity import severity


def test_worked_example_from_the_methodology():
    # DPC 4, EI 0.75, CB 0.75 -> 3.75, high
    result = severity(4, D("0.75"), D("0.25"), D("0"), D("0"), malicious=True)
    assert result.score == D("3.75")
    assert result.band == "high"


@pytest.mark.parametrize(
    ("dpc", "ei", "conf", "integ", "avail", "malicious", "score", "band"),
    [
        (1, "0.25", "0", "0", "0", False, "0.25", "low"),
        (1, "1", "0.5", "0", "0", False, "1.50", "low"),
        (2, "0.5", "0.5", "0.25", "0.25", False, "2.00", "medium"),
        (3, "0.75", "0.25", "0", "0", False, "2.50", "medium"),
        (3, "1", "0", "0", "0", False, "3.00", "high"),
        (4, "0.75", "0.5", "0", "0", False, "3.50", "high"),
        (4, "1", "0", "0", "0", False, "4.00", "very_high"),
        (4, "1", "0.5", "0.5", "0.5", True, "6.00", "very_high"),
        (2, "0.75", "0", "0", "0", True, "2.00", "medium"),
        (1, "0.75", "0.5", "0.5", "0", False, "1.75", "low"),
        ("2.5", "1", "0.25", "0", "0", False, "2.75", "medium"),
    ],
)
def test_enisa_table(dpc, ei, conf, integ, avail, malicious, score, band):
    result = severity(D(dpc), D(ei), D(conf), D(integ), D(avail), malicious)
    assert result.score == D(score)
    assert result.band == band


@pytest.mark.parametrize("dpc", [D("0.5"), D("4.25")])
def test_dpc_outside_one_to_four_is_refused(dpc):
    with pytest.raises(ValueError):
        severity(dpc, D("1"), D("0"), D("0"), D("0"), False)
