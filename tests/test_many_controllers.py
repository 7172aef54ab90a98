"""A processor's platform breach touches hundreds or thousands of controllers: every API call
holds, on SQLite as on PostgreSQL (bench/many_controllers.py times 5,000)."""

import pytest

from incidents.models import Controller, Obligation

pytestmark = pytest.mark.django_db

# More controllers than SQLite takes as ids in one query (it refused the prefetch of 1,100).
COUNT = 1_100


def kbo(base):
    return f"0{base:07d}{97 - base % 97:02d}"


@pytest.fixture
def platform(db):
    Controller.objects.bulk_create(
        Controller(
            name=f"Webshop {n}",
            enterprise_number=kbo(4409663 + n),
            address="Straat 1, 9000 Gent",
            contact_person="X",
            email=f"shop{n}@example.com",
            phone="+3292345678",
        )
        for n in range(COUNT)
    )
    return list(Controller.objects.values_list("pk", flat=True))


def test_an_assessment_naming_over_a_thousand_controllers_answers_with_them_all(
    api, new_incident, platform, assessment_values, categories
):
    incident = new_incident()
    body = {
        **{k: str(v) if hasattr(v, "as_tuple") else v for k, v in assessment_values.items()},
        "data_categories": [categories[0].pk],
        "subject_categories": [categories[1].pk],
        "controllers": platform,
    }
    response = api("security").post(f"/api/incidents/{incident.pk}/assess/", body, format="json")
    assert response.status_code == 200, response.content[:300]
    owed = response.json()["obligations"]
    assert len(owed) == Obligation.objects.filter(incident=incident).count() == 2 * COUNT
