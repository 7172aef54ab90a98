"""Controllers at any scale: the forms list only the controllers chosen, and more are added by
name or KBO number (as typed, or picked from the server's matches)."""

import pytest
from django.test import Client

from incidents.models import Controller, Incident

pytestmark = pytest.mark.django_db


def kbo(base):
    return f"0{base:07d}{97 - base % 97:02d}"


@pytest.fixture
def many():
    return Controller.objects.bulk_create(
        Controller(
            name=f"Klant {n:03d} BV",
            enterprise_number=kbo(1_000_000 + n),
            address="Straat 1, 1000 Brussel",
            email=f"dpo{n}@klant.example",
            language="nl",
        )
        for n in range(300)
    )


def test_the_forms_list_only_the_chosen_controllers_whatever_their_number(
    client, security, many, incident_in
):
    client.force_login(security)
    log_form = client.get("/incidents/new/").content.decode()
    assert 'type="checkbox" name="controllers"' not in log_form and "Klant 150" not in log_form
    assert 'name="controllers_add"' in log_form
    incident = incident_in("assessed")  # one controller chosen
    assess = client.get(f"/incidents/{incident.pk}/assess/").content.decode()
    assert assess.count('type="checkbox" name="controllers"') == 1 and "Klant 150" not in assess
    assert len(assess) < 60_000


def test_the_lookup_finds_by_name_or_number_twenty_at_most(client, security, many):
    client.force_login(security)
    names = [
        c["name"]
        for c in client.get("/controllers/lookup/", {"q": "klant 15"}).json()["controllers"]
    ]
    assert names == [f"Klant {n} BV" for n in range(150, 160)]
    by_number = client.get(
        "/controllers/lookup/", {"q": kbo(1_000_042)[:4] + "." + kbo(1_000_042)[4:]}
    )
    assert [c["name"] for c in by_number.json()["controllers"]] == ["Klant 042 BV"]
    assert len(client.get("/controllers/lookup/", {"q": "klant"}).json()["controllers"]) == 20
    assert client.get("/controllers/lookup/", {"q": "k"}).json() == {"controllers": []}
    assert Client().get("/controllers/lookup/", {"q": "klant"}).status_code == 302  # login


def test_without_javascript_names_and_numbers_typed_are_matched_or_refused(
    client, security, many, django_capture_on_commit_callbacks
):
    client.force_login(security)
    form = {"title": "Platform", "description": "d", "aware_at": "2026-12-06T09:00"}
    typed = (
        "Klant 007 BV\nklant 008 bv\nBE "
        + kbo(1_000_009)[:4]
        + "."
        + kbo(1_000_009)[4:7]
        + "."
        + kbo(1_000_009)[7:]
        + "\nKlant 999 BV"
    )
    refused = client.post("/incidents/new/", {**form, "controllers_add": typed})
    assert refused.status_code == 200 and not Incident.objects.exists()
    html = refused.content.decode()
    assert (
        "No controller is called or numbered “Klant 999 BV”: check the spelling, or add it first."
        in html
    )
    assert "Klant 999 BV</textarea>" in html  # what was typed stays
    with django_capture_on_commit_callbacks(execute=True):
        client.post("/incidents/new/", {**form, "controllers_add": typed.rsplit("\n", 1)[0]})
    incident = Incident.objects.get()
    assert sorted(c.name for c in incident.controllers.all()) == [
        "Klant 007 BV",
        "Klant 008 BV",
        "Klant 009 BV",
    ]


def test_past_twelve_chosen_the_list_is_folded_away_but_all_are_still_sent(
    client, security, many, incident_in
):
    client.force_login(security)
    incident = incident_in("assessed")
    incident.controllers.add(*many[:11])  # twelve with the fixture's own
    twelve = client.get(f"/incidents/{incident.pk}/assess/").content.decode()
    assert "picked-many" not in twelve
    incident.controllers.add(many[11])
    thirteen = client.get(f"/incidents/{incident.pk}/assess/").content.decode()
    assert "<summary>13 controllers chosen: show them to remove one</summary>" in thirteen
    assert thirteen.count('type="checkbox" name="controllers"') == 13


def test_past_fifty_chosen_the_rest_travel_as_one_list_and_all_stay_chosen(
    client, security, many, incident_in, assessment_values, categories
):
    """5,000 chosen made a page of 743 kB: only the first 50 are boxes to untick, the rest one
    hidden list. Sent back as the browser sends it, every one stays; an unticked one goes."""
    import re

    from tests.test_merging import assessed

    client.force_login(security)
    incident = incident_in("assessed")
    incident.controllers.add(*many[:59])  # sixty with the fixture's own
    page = client.get(f"/incidents/{incident.pk}/assess/")
    html = page.content.decode()
    boxes = re.findall(r'type="checkbox" name="controllers" value="(\d+)"', html)
    rest = re.search(r'name="controllers_rest" value="([\d,]+)"', html).group(1).split(",")
    assert len(boxes) == 50 and len(rest) == 10 and not set(boxes) & set(rest)
    assert "And 10 more, kept as they are." in html
    data = assessed(page, assessment_values, categories, many[0])
    data.update(controllers=boxes[1:], controllers_rest=",".join(rest))  # the first unticked
    assert client.post(f"/incidents/{incident.pk}/assess/", data).status_code == 302
    kept = {str(pk) for pk in incident.controllers.values_list("pk", flat=True)}
    assert kept == set(boxes[1:]) | set(rest)
