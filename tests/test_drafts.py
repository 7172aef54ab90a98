"""The assessment in steps, saved as one goes: a draft keeps what was typed, as typed, changes
no state and stops no clock; saving the assessment checks it all and uses the draft up. And each
kind of breach is asked once, with how it was hit."""

import re
from decimal import Decimal

import pytest

from incidents.models import Assessment, AssessmentDraft, Incident
from tests.conftest import VerifiedClient
from tests.test_merging import as_posted, assessed

pytestmark = pytest.mark.django_db


@pytest.fixture
def sam(users):
    client = VerifiedClient()
    client.force_login(users["security"])
    return client


def url(incident):
    return f"/incidents/{incident.pk}/assess/"


def test_a_step_saved_as_a_draft_keeps_what_was_typed_and_changes_nothing_else(
    sam, new_incident, security
):
    incident = new_incident()
    data = as_posted(sam.get(url(incident)))
    data.update(confidentiality="on", subjects_count="about 500", consequences="Phishing.")
    saved = sam.post(url(incident), {**data, "draft": "3"})
    assert saved.status_code == 302 and saved["Location"] == f"{url(incident)}#step-3"
    draft = AssessmentDraft.objects.get(incident=incident)
    assert draft.author == security
    assert draft.data["subjects_count"] == ["about 500"]
    assert draft.data["consequences"] == ["Phishing."]
    assert "draft" not in draft.data
    incident.refresh_from_db()
    assert incident.state == "detected" and incident.assessment_or_none() is None
    assert not incident.events.filter(kind="assessed").exists()


def test_the_draft_comes_back_as_typed_without_errors_for_what_is_still_missing(sam, new_incident):
    incident = new_incident()
    data = as_posted(sam.get(url(incident)))
    data.update(confidentiality="on", subjects_count="about 500")
    sam.post(url(incident), {**data, "draft": "1"})
    page = sam.get(url(incident))
    form = page.context["form"]
    assert not form.is_bound
    assert form["subjects_count"].value() == "about 500"
    assert form["confidentiality"].value() == "on"
    assert form["integrity"].value() is False
    assert 'value="about 500"' in page.text
    assert "Your draft of" in page.text and "errorlist" not in page.text


def test_typing_saves_the_draft_and_says_when_in_json(sam, new_incident):
    incident = new_incident()
    data = as_posted(sam.get(url(incident)))
    data["consequences"] = "Saved as I type."
    answer = sam.post(url(incident), {**data, "draft": "auto"}, HTTP_ACCEPT="application/json")
    assert answer.status_code == 200
    assert re.fullmatch(r"Draft saved at \d\d:\d\d:\d\d CES?T\.", answer.json()["saved"])
    assert AssessmentDraft.objects.get(incident=incident).data["consequences"] == [
        "Saved as I type."
    ]


def test_a_draft_longer_than_a_field_may_be_is_refused_and_the_earlier_draft_stays(
    sam, new_incident
):
    incident = new_incident()
    data = as_posted(sam.get(url(incident)))
    sam.post(url(incident), {**data, "consequences": "First.", "draft": "1"})
    limit = Assessment._meta.get_field("consequences").max_length
    answer = sam.post(
        url(incident),
        {**data, "consequences": "x" * (limit + 1), "draft": "auto"},
        HTTP_ACCEPT="application/json",
    )
    assert answer.status_code == 400
    assert answer.json()["error"] == (
        f"“Likely consequences” is longer than it may be ({limit} characters): shorten it."
    )
    assert AssessmentDraft.objects.get(incident=incident).data["consequences"] == ["First."]


def test_saving_the_assessment_uses_the_draft_up_and_the_incident_page_showed_it(
    sam, new_incident, assessment_values, categories, controller
):
    incident = new_incident()
    page = sam.get(url(incident))
    sam.post(url(incident), {**as_posted(page), "consequences": "Half.", "draft": "6"})
    detail = sam.get(f"/incidents/{incident.pk}/")
    assert "Draft assessment by" in detail.text and "Go on with your draft" in detail.text
    data = assessed(sam.get(url(incident)), assessment_values, categories, controller)
    done = sam.post(url(incident), data)
    assert done.status_code == 302
    assert not AssessmentDraft.objects.filter(incident=incident).exists()
    assert Incident.objects.get(pk=incident.pk).state == "assessed"
    assert "Draft assessment by" not in sam.get(f"/incidents/{incident.pk}/").text


def test_a_colleagues_draft_is_named_on_the_assessment_page_but_not_filled_in(
    sam, users, new_incident
):
    incident = new_incident()
    mia = VerifiedClient()
    mia.force_login(users["manager"])
    data = as_posted(mia.get(url(incident)))
    mia.post(url(incident), {**data, "consequences": "Mia's words.", "draft": "6"})
    page = sam.get(url(incident))
    assert "is also working on the assessment" in page.text
    assert page.context["draft"] is None
    assert "Mia&#x27;s words." not in page.text


def test_no_draft_on_a_closed_incident(sam, incident_in):
    incident = incident_in("closed")
    refused = sam.post(url(incident), {"draft": "1", "consequences": "late"}, follow=True)
    assert refused.redirect_chain == [(f"/incidents/{incident.pk}/", 302)]
    assert f"{incident.reference} is Closed: its facts and records are read-only now." in (
        refused.text
    )
    typed = sam.post(url(incident), {"draft": "auto"}, HTTP_ACCEPT="application/json")
    assert typed.status_code == 409
    assert typed.json() == {"error": "The incident is closed: nothing was saved."}
    assert not AssessmentDraft.objects.exists()


def test_the_steps_say_which_are_answered(sam, new_incident):
    incident = new_incident()
    data = as_posted(sam.get(url(incident)))
    sam.post(url(incident), {**data, "confidentiality": "on", "draft": "1"})
    steps = list(sam.get(url(incident)).context["form"].sections())
    answered = {title: done for _number, title, _text, _fields, done in steps}
    assert answered["What was hit"] is True
    assert answered["Cause"] is True  # "not known yet" is an answer
    assert answered["Data and people"] is False
    assert [number for number, *_rest in steps] == list(range(1, 9))


def test_a_kind_not_hit_adds_nothing_to_the_severity_whatever_its_hidden_grade(
    sam, new_incident, assessment_values, categories, controller
):
    incident = new_incident()
    data = assessed(sam.get(url(incident)), assessment_values, categories, controller)
    data.update(enisa_integrity="0.50")  # a grade left behind after unticking integrity
    assert sam.post(url(incident), data).status_code == 302
    assessment = Assessment.objects.get(incident=incident)
    assert assessment.integrity is False and assessment.enisa_integrity == Decimal(0)


def test_a_graded_kind_that_is_not_ticked_is_refused_by_the_api(
    api, new_incident, assessment_values, categories, controller
):
    incident = new_incident()
    client = api("security")
    body = {
        **{k: str(v) if isinstance(v, Decimal) else v for k, v in assessment_values.items()},
        "confidentiality": False,
        "integrity": True,
        "data_categories": [categories[0].pk],
        "subject_categories": [categories[1].pk],
        "controllers": [controller.pk],
    }
    body.pop("enisa_malicious")
    refused = client.post(f"/api/incidents/{incident.pk}/assess/", body, format="json")
    assert refused.status_code == 400
    assert refused.json()["enisa_confidentiality"] == [
        "A loss is graded but this kind of breach is not ticked: tick it, or set the grade "
        "to its lowest."
    ]
    assert Incident.objects.get(pk=incident.pk).state == "detected"
