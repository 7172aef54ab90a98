"""Two people on one incident: changes to different fields merge; a real conflict comes back
field by field, with the person's input kept, what is there now, who changed it and when."""

import re

import pytest
from django.utils import timezone

from incidents import workflow
from incidents.models import Incident
from tests.conftest import VerifiedClient

pytestmark = pytest.mark.django_db


@pytest.fixture
def person(users):
    def logged_in(role):
        client = VerifiedClient()
        client.force_login(users[role])
        return client

    return logged_in


def as_posted(page):
    """What the browser sends for the form on this page, unchanged: every field's value."""
    form = page.context["form"]
    data = {}
    for name in form.fields:
        field = form[name]
        value = field.value()
        if value is None or value is False:
            continue
        if isinstance(value, (list, tuple)):
            data[name] = [str(item) for item in value]
        else:
            data[name] = field.field.widget.format_value(value) or ""
    return data


def assessed(page, assessment_values, categories, controller):
    """The assessment form on this page, filled in as the browser would send it."""
    data = as_posted(page)
    data.update(
        {k: v for k, v in assessment_values.items() if not isinstance(v, bool)},
        confidentiality="on",
        data_categories=[categories[0].pk],
        subject_categories=[categories[1].pk],
        controllers=[controller.pk],
        enisa_integrity="0.00",
        enisa_availability="0.00",
    )
    data.pop("enisa_malicious", None)
    return data


def test_a_colleagues_change_to_another_field_merges_with_the_assessment(
    person, new_incident, security, manager, controller, categories, assessment_values
):
    incident = new_incident()
    sam = person("security")
    page = sam.get(f"/incidents/{incident.pk}/assess/")
    data = assessed(page, assessment_values, categories, controller)
    # Meanwhile Mia adds a sentence to how it was discovered.
    workflow.update_facts(incident.pk, manager, {"discovered_how": "Found by Mia."})
    saved = sam.post(f"/incidents/{incident.pk}/assess/", data, follow=True)
    assert saved.redirect_chain[-1][0] == f"/incidents/{incident.pk}/"
    assert "Saved, together with what others changed while you were editing." in saved.text
    incident.refresh_from_db()
    assert incident.state == "assessed" and incident.discovered_how == "Found by Mia."
    assert incident.assessment.consequences == "Phishing of customers."
    assert list(incident.controllers.all()) == [controller]


def test_changes_to_different_facts_both_stay(person, new_incident, manager):
    incident = new_incident()
    sam = person("security")
    data = as_posted(sam.get(f"/incidents/{incident.pk}/edit/"))
    workflow.update_facts(incident.pk, manager, {"description": "Mia's description."})
    data["title"] = "Sam's title"
    response = sam.post(f"/incidents/{incident.pk}/edit/", data)
    assert response.status_code == 302
    incident.refresh_from_db()
    assert (incident.title, incident.description) == ("Sam's title", "Mia's description.")


def test_a_real_conflict_shows_both_keeps_the_input_and_saves_the_choice(
    person, new_incident, manager
):
    incident = new_incident()
    sam = person("security")
    data = as_posted(sam.get(f"/incidents/{incident.pk}/edit/"))
    workflow.update_facts(incident.pk, manager, {"description": "Mia's words."})
    mia_at = timezone.localtime(incident.events.latest("at").at).strftime("%d/%m %H:%M %Z")
    data.update(description="Sam's words, typed for ten minutes.", title="Sam's title")
    conflict = sam.post(f"/incidents/{incident.pk}/edit/", data)
    assert conflict.status_code == 409
    html = conflict.text
    assert "Changed by someone else while you were editing" in html
    row = re.search(r'<tr>\s*<td data-label="Field">.*?</tr>', html, re.S).group(0)
    assert "What happened" in row and "Mia&#x27;s words." in row and f"Manager, {mia_at}" in row
    assert "Sam&#x27;s words, typed for ten minutes.</textarea>" in html  # kept
    incident.refresh_from_db()
    assert (incident.title, incident.description) == ("Admin account phished", "Mia's words.")

    # Sent again as it is: his words win; the form carried the version and base of now.
    again = as_posted(conflict)
    assert int(again["version"]) == incident.version
    assert sam.post(f"/incidents/{incident.pk}/edit/", again).status_code == 302
    incident.refresh_from_db()
    assert (incident.title, incident.description) == (
        "Sam's title",
        "Sam's words, typed for ten minutes.",
    )


def test_taking_theirs_keeps_their_text_and_saves_the_rest(person, new_incident, manager):
    incident = new_incident()
    sam = person("security")
    data = as_posted(sam.get(f"/incidents/{incident.pk}/edit/"))
    workflow.update_facts(incident.pk, manager, {"description": "Mia's words."})
    data.update(description="Sam's words.", title="Sam's title")
    again = as_posted(sam.post(f"/incidents/{incident.pk}/edit/", data))
    again["take_theirs"] = ["description"]
    assert sam.post(f"/incidents/{incident.pk}/edit/", again).status_code == 302
    incident.refresh_from_db()
    assert (incident.title, incident.description) == ("Sam's title", "Mia's words.")


def test_the_same_person_in_two_tabs_merges_too(person, new_incident):
    incident = new_incident()
    sam = person("security")
    first = as_posted(sam.get(f"/incidents/{incident.pk}/edit/"))
    second = as_posted(sam.get(f"/incidents/{incident.pk}/edit/"))
    first["title"] = "From tab one"
    second["description"] = "From tab two"
    assert sam.post(f"/incidents/{incident.pk}/edit/", first).status_code == 302
    assert sam.post(f"/incidents/{incident.pk}/edit/", second).status_code == 302
    incident.refresh_from_db()
    assert (incident.title, incident.description) == ("From tab one", "From tab two")


def test_a_forged_base_is_refused_as_a_stale_page(person, new_incident, manager):
    incident = new_incident()
    sam = person("security")
    data = as_posted(sam.get(f"/incidents/{incident.pk}/edit/"))
    workflow.update_facts(incident.pk, manager, {"description": "Mia's words."})
    data.update(base="forged", title="Sam's title")
    response = sam.post(f"/incidents/{incident.pk}/edit/", data, follow=True)
    assert (
        "Your change was not saved: reload, check, and try again." in response.text
        and response.redirect_chain[-1][0] == (f"/incidents/{incident.pk}/")
    )
    assert Incident.objects.get(pk=incident.pk).title == "Admin account phished"


def test_the_processing_activities_are_asked_once_and_may_bring_all_their_controllers(
    person, new_incident, controller, second, categories, assessment_values
):
    from incidents.models import ProcessingActivity

    shops = ProcessingActivity.objects.get(pk=1)
    second.activities.add(shops)
    incident = new_incident()
    sam = person("security")
    page = sam.get(f"/incidents/{incident.pk}/assess/")
    html = page.content.decode()
    assert html.count('name="processing_activities"') == ProcessingActivity.objects.count()
    assert html.count('name="all_controllers_of"') == 1  # a tick, not a second list
    data = assessed(page, assessment_values, categories, controller)
    data.update(processing_activities=[shops.pk], all_controllers_of="on")
    assert sam.post(f"/incidents/{incident.pk}/assess/", data).status_code == 302
    assert set(incident.controllers.all()) == {controller, second}
    assert list(Incident.objects.get(pk=incident.pk).assessment.processing_activities.all()) == [
        shops
    ]


def test_what_a_person_saw_and_what_is_stored_compare_by_meaning():
    from datetime import UTC, datetime
    from decimal import Decimal

    from incidents.merging import canonical, fingerprint
    from incidents.models import DataCategory

    assert fingerprint(None) == fingerprint("") != fingerprint("0")
    assert canonical(None) == canonical("") == ""
    first = DataCategory.objects.create(name_en="A", name_nl="A", name_fr="A")
    second = DataCategory.objects.create(name_en="B", name_nl="B", name_fr="B")
    both = DataCategory.objects.filter(pk__in=[first.pk, second.pk])
    # The same rows in any order give one list of their keys (in a fixed order of its own:
    # by their JSON text, so 100 before 99; PostgreSQL's keys reach three digits mid-run).
    assert canonical(both) == canonical([second, first]) == canonical([first, second])
    assert sorted(canonical(both)) == sorted([first.pk, second.pk])
    assert canonical({"b": [2, "x"], "a": None}) == {"b": ["2", "x"], "a": ""}
    assert fingerprint([2, "x"]) == fingerprint(["x", 2])
    moment = datetime(2026, 12, 6, 9, 0, 0, 123456, tzinfo=UTC)
    assert canonical(moment) == "2026-12-06T09:00:00+00:00"  # to the second, in UTC
    assert canonical(Decimal("0.50")) == "0.50" and canonical(True) is True
    assert fingerprint("a") != fingerprint("b") and len(fingerprint("a")) == 16


def test_the_base_is_signed_and_names_only_what_the_person_edits(new_incident):
    from incidents.forms import FactsForm
    from incidents.merging import merged_fields, read_base, sign_base, stored_values

    incident = new_incident()
    form = FactsForm(instance=incident)
    names = merged_fields(form)
    assert "version" not in names and "base" not in names and "title" in names
    stored = stored_values(form, incident)
    assert set(stored) == set(names) and stored["title"] == incident.title
    token = sign_base(form, stored)
    at, seen = read_base(token)
    assert set(seen) == set(names) and at.tzinfo is not None
    assert (
        read_base(token[:-2] + "xx") is None and read_base("") is None and read_base(None) is None
    )
