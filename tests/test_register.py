"""The breach register (GDPR art. 33(5)) as the DPO reads it: every list whole, what is not
known said so, the reasons a GBA notification was not made, a platform-wide breach summarised,
and a PDF of many incidents whose footer matches its stored record."""

import re
from datetime import timedelta

import pytest
from django.utils import timezone

from incidents import workflow
from incidents.models import Controller, Document
from tests.test_documents import csv_rows, named_categories, read

pytestmark = pytest.mark.django_db


def controllers(count, **fields):
    return [
        Controller.objects.create(
            name=f"Klant {i}",
            enterprise_number=f"04{i:08d}",
            address="Straat 1, 9000 Gent",
            contact_person="X",
            email=f"klant{i}@example.be",
            phone="+3292345678",
            **fields,
        )
        for i in range(count)
    ]


def row_of(table, incident):
    return dict(zip(table[0], next(r for r in table if r[0] == incident.reference), strict=True))


def test_a_dutch_row_lists_every_category_says_what_is_not_known_and_why_the_gba_was_not_told(
    api, settings, security, new_incident, controller, assessment_values
):
    settings.GBA_NOTIFICATION_POLICY = "risk_based"
    controller.gba_on_behalf = False  # notifies the GBA itself
    controller.save()
    other = controllers(1)[0]  # Conitro would notify, but there is no risk
    data, subjects = named_categories(
        [("Name", "Naam", "Nom"), ("NN", "Rijksregisternummer", "NN")],
        [("Customers", "Klanten", "Clients"), ("Staff", "Personeel", "Personnel")],
    )
    incident = new_incident()
    values = {
        **assessment_values,
        "risk_level": "none",
        "risk_reasoning": "Alleen versleutelde back-ups.",
        "subjects_count": None,
        "records_count": None,
        "consequences": "",
        "integrity": True,
    }
    relations = {
        "data_categories": data,
        "subject_categories": subjects,
        "controllers": [controller, other],
    }
    workflow.assess(incident.pk, security, values, relations)

    row = row_of(csv_rows(api("dpo").get("/api/register.csv?lang=nl")), incident)

    reasons = [o.note for o in incident.obligations.filter(kind="notify_gba")]
    assert len(set(reasons)) == 2 and all(o.strip() for o in reasons)
    assert row["Beslissing"] == f"Niet gemeld aan de GBA: {reasons[0]} {reasons[1]}"
    assert row["Soort inbreuk"] == "vertrouwelijkheid, integriteit"
    assert row["Motivering"] == "Alleen versleutelde back-ups."
    assert row["Categorieën persoonsgegevens"] == "Naam; Rijksregisternummer"
    assert row["Categorieën betrokkenen"] == "Klanten; Personeel"
    assert row["Geschat aantal betrokkenen"] == "nog niet gekend"
    assert row["Geschat aantal persoonsgegevens"] == "nog niet gekend"
    assert row["Waarschijnlijke gevolgen"] == "nog niet gekend"
    assert row["Betrokken verwerkingsverantwoordelijken"] == "Bakkerij Van Damme BV; Klant 0"
    for reason in reasons:  # each not-required obligation says why
        deadline = f"{timezone.localtime(incident.deadline_at):%d/%m/%Y %H:%M %Z}"
        assert f": niet vereist (uiterste termijn {deadline}) — {reason}" in row["Verplichtingen"]


@pytest.mark.parametrize("count", [5, 6])
def test_a_platform_wide_breach_is_counted_per_obligation_and_its_late_ones_are_named(
    api, security, manager, new_incident, assessment_values, categories, count
):
    """Up to ten obligations are listed one by one; beyond, counted per kind and status, and
    the late ones named (at most ten): thousands of controllers must not make a row of pages."""
    affected = controllers(count)
    incident = new_incident(hours_ago=30)
    workflow.assess(
        incident.pk,
        security,
        assessment_values,
        {"data_categories": [categories[0]], "subject_categories": [categories[1]],
         "controllers": affected},
    )  # fmt: skip
    workflow.update_facts(incident.pk, manager, {"gba_combined": True})  # one DBN for all
    workflow.transition(
        incident.pk, manager, "notify_gba", reference="DBN-2026-0042", delay_reason="Late."
    )
    lines = row_of(csv_rows(api("dpo").get("/api/register.csv?lang=en")), incident)[
        "Obligations"
    ].splitlines()

    filed = "Notify the GBA for the controller — Klant {}: met .* DBN-2026-0042 — late: Late."
    owed = r"Tell the controller — Klant {}: open \(deadline .*\)"
    if count == 5:  # 2 × 5 = 10: each one
        assert len(lines) == 10
        for i in range(5):
            assert any(re.fullmatch(filed.format(i), line) for line in lines), lines
            assert any(re.fullmatch(owed.format(i), line) for line in lines), lines
        return
    assert lines[:2] == [
        "Notify the GBA for the controller — met: 6",
        "Tell the controller — open: 6",
    ]
    late = lines[2:]  # every one is late (aware 30 hours ago): the first ten by deadline
    assert len(late) == 10
    assert [bool(re.fullmatch(filed.format(i), line)) for i, line in enumerate(late[:6])] == [
        True
    ] * 6
    assert all(re.fullmatch(owed.format(i), line) for i, line in enumerate(late[6:])), late


def footer_digest(text):
    return re.search(r"facts SHA-256 ([0-9a-f]{16})", text).group(1)


def test_a_register_pdf_of_many_incidents_lists_each_once_under_repeated_headers(
    client, dpo, new_incident
):
    incidents = [new_incident(hours_ago=i + 1, title=f"Breach number {i}") for i in range(12)]
    since = timezone.localdate(incidents[-1].aware_at - timedelta(days=1))
    client.force_login(dpo)

    reader, text = read(client.get(f"/register.pdf?lang=en&from={since}&state=detected"))

    for incident in incidents:
        assert text.count(incident.reference) == 1, incident.reference
    # Ten rows a table, each with the header (also repeated atop a page it runs onto).
    assert 2 <= text.count("Controllers and obligations") <= len(reader.pages) + 1
    assert f"Aware from: {since:%d/%m/%Y}, State: Detected" in text
    assert reader.metadata.subject == "Register of personal data breaches (GDPR art. 33(5))"
    stored = Document.objects.get(kind="register_pdf")
    assert footer_digest(text) == stored.facts_sha256[:16]  # the printout names its record

    new_incident(hours_ago=1, title="One more")
    _, again = read(client.get(f"/register.pdf?lang=en&from={since}&state=detected"))
    assert footer_digest(again) != footer_digest(text)
    read(client.get(f"/register.pdf?lang=en&from={since}&state=detected"))  # the same facts
    versions = Document.objects.filter(kind="register_pdf").order_by("version")
    assert list(versions.values_list("version", flat=True)) == [1, 2]


def test_an_empty_register_pdf_says_so_in_dutch(client, dpo):
    client.force_login(dpo)
    reader, text = read(client.get("/register.pdf?lang=nl&state=closed"))
    assert text.startswith("Register van datalekken Status: Afgesloten Referentie Feiten")
    # One empty row: a dash in each of the eight columns; the PDF says its language.
    assert "Risico — — — — — — — — Register van datalekken Aangemaakt" in text
    assert reader.root_object["/Lang"] == "nl"
    assert reader.metadata.subject == "Register van datalekken (AVG art. 33(5))"


def test_an_incident_not_assessed_yet_leaves_the_assessments_columns_empty(
    api, client, dpo, new_incident
):
    incident = new_incident(title="Laptop stolen")
    row = row_of(csv_rows(api("dpo").get("/api/register.csv?lang=en")), incident)
    assessed = [
        "Type of breach",
        "Categories of personal data",
        "Categories of data subjects",
        "Approximate number of data subjects",
        "Approximate number of records",
        "Likely consequences",
        "Measures taken",
        "Measures proposed",
        "Risk to the data subjects",
        "Severity (ENISA)",
        "Reasoning",
    ]
    assert {column: row[column] for column in assessed} == dict.fromkeys(assessed, "")
    assert row["Decision"] == "Open"
    client.force_login(dpo)
    _, text = read(client.get("/register.pdf?lang=en"))
    assert "Breach register all incidents" in text  # no filter
    # The data column says nothing rather than " / " (no people, no records).
    assert re.search(rf"{incident.reference} Laptop stolen .* Detected Open .*— — ", text)
    assert " / " not in text


def assessed_for(incident, security, values, categories, controllers):
    relations = {
        "data_categories": [categories[0]],
        "subject_categories": [categories[1]],
        "controllers": controllers,
    }
    return workflow.assess(incident.pk, security, values, relations)


def test_each_gba_filing_of_an_incident_is_in_the_reference_column(
    api, security, manager, new_incident, categories, assessment_values, controller, second
):
    incident = new_incident()
    assessed_for(incident, security, assessment_values, categories, [controller, second])
    for gba_reference, on_behalf_of in [("DBN-2026-7", second), ("DBN-2026-3", controller)]:
        workflow.transition(
            incident.pk,
            manager,
            "notify_gba",
            reference=gba_reference,
            controllers=[on_behalf_of.pk],
        )
    row = row_of(csv_rows(api("dpo").get("/api/register.csv?lang=en")), incident)
    assert row["GBA reference"] == "DBN-2026-3, DBN-2026-7"


def test_a_filing_for_one_of_two_controllers_is_not_called_notified(
    api, security, manager, new_incident, categories, assessment_values, controller, second
):
    """The decision says what was filed and what is still owed: a DPO reading "Notified to
    the GBA" would take the other controller's filing as done."""
    incident = new_incident()
    assessed_for(incident, security, assessment_values, categories, [controller, second])

    def decided():
        return row_of(csv_rows(api("dpo").get("/api/register.csv?lang=en")), incident)["Decision"]

    workflow.transition(
        incident.pk, manager, "notify_gba", reference="DBN-2026-71", controllers=[second.pk]
    )
    assert decided() == "Notified to the GBA for 1 of the 2 controllers it is owed for"
    workflow.transition(
        incident.pk, manager, "notify_gba", reference="DBN-2026-72", controllers=[controller.pk]
    )
    assert decided() == "Notified to the GBA"


def test_the_register_reads_the_same_few_queries_for_two_incidents_or_twelve(
    api, incident_in, controller
):
    """Every incident's assessment, categories, controllers and obligations come with the
    page of incidents (prefetched), not one query per incident: a register of thousands
    stays a few queries."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    dpo = api("dpo")

    def queries_for_register():
        with CaptureQueriesContext(connection) as queries:
            csv_rows(dpo.get("/api/register.csv?lang=en"))
        return len(queries)

    for _ in range(2):
        incident_in("gba_notified")
    few = queries_for_register()
    for _ in range(10):
        incident_in("gba_notified")
    assert queries_for_register() == few


def test_withdrawn_and_dismissed_obligations_say_why_in_the_readers_language(
    api, manager, incident_in, controller, second
):
    """The reasons are stored in one language (Dutch, LANGUAGE_CODE); an English register
    shows them in English, and the dismissal's reason as the person wrote it."""
    incident = incident_in("assessed")
    workflow.update_facts(incident.pk, manager, {"controllers": [controller, second]})
    workflow.update_facts(incident.pk, manager, {"controllers": [second]})  # not the bakery
    workflow.transition(incident.pk, manager, "dismiss", reason="A test mail, no personal data.")
    lines = row_of(csv_rows(api("dpo").get("/api/register.csv?lang=en")), incident)["Obligations"]
    bakery = [line for line in lines.splitlines() if "Bakkerij Van Damme BV" in line]
    bookshop = [line for line in lines.splitlines() if "Librairie Lefèvre SRL" in line]
    assert bakery and all(
        line.endswith(" — The controller is no longer among those affected.") for line in bakery
    ), bakery
    assert bookshop and all(
        line.endswith(" — Dismissed: A test mail, no personal data.") for line in bookshop
    ), bookshop
    stored = set(incident.obligations.values_list("note", flat=True))
    assert stored == {
        "De verwerkingsverantwoordelijke is niet langer getroffen.",
        "Afgewezen: A test mail, no personal data.",
    }


def test_the_register_keeps_each_decision_as_it_was_taken(
    api, new_incident, security, manager, controller, categories, assessment_values, settings
):
    """Not notified under the risk-based policy, closed; later the controller's agreement
    changes: the register still gives the reason the decision was taken for."""
    settings.GBA_NOTIFICATION_POLICY = "risk_based"
    incident = new_incident()
    values = {**assessment_values, "risk_level": "none", "risk_reasoning": "Hashed passwords."}
    workflow.assess(
        incident.pk,
        security,
        values,
        {"data_categories": [categories[0]], "subject_categories": [categories[1]],
         "controllers": [controller]},
    )  # fmt: skip
    workflow.transition(incident.pk, manager, "notify_controller", how="E-mail")
    workflow.transition(incident.pk, manager, "close")
    controller.gba_on_behalf = False
    controller.save()
    settings.GBA_NOTIFICATION_POLICY = "every_breach"
    row = row_of(csv_rows(api("dpo").get("/api/register.csv?lang=en")), incident)
    # Stored when taken, in the desk's language (settings.LANGUAGE_CODE): kept as it was.
    taken = "Zal waarschijnlijk geen risico inhouden: opgenomen in het register, niet gemeld."
    assert row["Decision"] == f"Not notified to the GBA: {taken} Hashed passwords."


def test_the_register_page_shows_each_filing_and_notice_from_the_obligations_in_few_queries(
    client, dpo, incident_in
):
    """The page's GBA and controller columns read the obligations (no copy on the incident),
    for a page of 20 incidents in the queries of one."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client.force_login(dpo)

    def page():
        with CaptureQueriesContext(connection) as queries:
            html = client.get("/register/").content.decode()
        return html, len(queries)

    first = incident_in("controller_notified")
    page()  # the session's first request writes it
    html, one = page()
    filing = first.obligations.get(kind="notify_gba")
    told = timezone.localtime(first.obligations.get(kind="tell_controller").met_at)
    assert f"{filing.reference}<br>{timezone.localtime(filing.met_at):%d/%m/%Y %H:%M}" in html
    assert f"<td>{told:%d/%m/%Y %H:%M}</td>" in html
    for _ in range(19):
        incident_in("gba_notified")
    html, twenty = page()
    assert (html.count("DBN-2026-"), twenty) == (20, one)


@pytest.mark.parametrize("start", ["=", "+", "-", "@", "\t", "\r", "\n", "\uff1d"])
def test_a_cell_that_starts_like_a_formula_or_a_control_character_stays_text(start):
    """OWASP's CSV injection list: a spreadsheet would run "=…" or, after a tab or line
    break, "…=cmd"; the register's cell starts with an apostrophe instead. Numbers stay."""
    from incidents.documents.register import inert

    assert inert(f"{start}cmd|' /C calc'!A0") == f"'{start}cmd|' /C calc'!A0"
    assert (inert("-12,5"), inert("Laptop")) == ("-12,5", "Laptop")
