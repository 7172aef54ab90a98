"""Controllers from a CSV file: every line checked, every error with its line, all or nothing."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from incidents.models import Controller, ProcessingActivity, ReferenceChange

pytestmark = pytest.mark.django_db

HEADER = (
    "name;enterprise_number;address;contact_person;email;phone;language;gba_on_behalf;activities"
)
GOOD = [
    "Bakkerij Van Damme BV;0440.966.354;Kerkstraat 12, 9000 Gent;Els Van Damme;"
    "privacy@vandamme.example;09 234 56 78;nl;ja;1",
    "Librairie Lefèvre SRL;BE 0831 797 467;Rue Haute 5, 1000 Bruxelles;Hélène Lefèvre;"
    "dpo@lefevre.example;+32 2 555 00 00;fr;non;",
]


def upload(client, lines, encoding="utf-8-sig"):
    content = "\r\n".join([HEADER, *lines]).encode(encoding)
    return client.post(
        "/controllers/import/", {"file": SimpleUploadedFile("c.csv", content, "text/csv")}
    )


def test_a_correct_file_adds_every_controller_and_records_who(client, manager):
    client.force_login(manager)
    response = upload(client, GOOD)
    assert response.status_code == 302
    bakery = Controller.objects.get(enterprise_number="0440966354")
    shop = Controller.objects.get(enterprise_number="0831797467")
    assert (bakery.phone, bakery.gba_on_behalf, shop.gba_on_behalf) == ("+3292345678", True, False)
    assert list(bakery.activities.all()) == [ProcessingActivity.objects.get(pk=1)]
    assert ReferenceChange.objects.filter(model="incidents.Controller", actor=manager).count() == 2


def test_one_bad_line_imports_nothing_and_says_which_line_and_why(client, manager):
    client.force_login(manager)
    bad = GOOD[1].replace("BE 0831 797 467", "0831.797.468")  # wrong check digits
    response = upload(client, [GOOD[0], bad, GOOD[0].replace("Bakkerij", "Bakkerij 2")])
    assert response.status_code == 200
    errors = response.context["errors"]
    assert errors[0].startswith("Line 3: enterprise_number:")
    assert errors[1] == "Line 4: enterprise number 0440.966.354 is also on line 2."
    assert not Controller.objects.exists()
    assert "Nothing was imported" in response.content.decode()


def test_a_known_enterprise_number_is_updated_not_duplicated(client, manager, controller):
    client.force_login(manager)
    upload(client, [GOOD[0].replace("Kerkstraat 12", "Veldstraat 1")])
    controller.refresh_from_db()
    assert controller.address == "Veldstraat 1, 9000 Gent"
    assert Controller.objects.count() == 1


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"name;email\r\nx;y", "The header line lacks the columns enterprise_number"),
        ("\r\n".join([HEADER, GOOD[1]]).encode("cp1252"), "not UTF-8"),
        (HEADER.encode(), "no controllers"),
    ],
)
def test_a_file_of_the_wrong_kind_is_refused_with_what_to_do(client, manager, content, message):
    client.force_login(manager)
    response = client.post(
        "/controllers/import/", {"file": SimpleUploadedFile("c.csv", content, "text/csv")}
    )
    assert message in " ".join(response.context["errors"])
    assert not Controller.objects.exists()


def test_security_staff_may_not_import(client, security):
    client.force_login(security)
    assert upload(client, GOOD).status_code == 403
    assert not Controller.objects.exists()


def test_the_command_imports_from_a_file(tmp_path, manager):
    from django.core.management import CommandError, call_command

    path = tmp_path / "controllers.csv"
    path.write_text("\n".join([HEADER.replace(";", ","), GOOD[0].replace(";", ",").replace(
        "Kerkstraat 12, 9000 Gent", '"Kerkstraat 12, 9000 Gent"')]), encoding="utf-8")  # fmt: skip
    call_command("import_controllers", str(path), "--as", manager.username)
    assert Controller.objects.get().name == "Bakkerij Van Damme BV"
    path.write_text(HEADER + "\nx;1;a;b;c;d;nl;;", encoding="utf-8")
    with pytest.raises(CommandError, match="Line 2"):
        call_command("import_controllers", str(path), "--as", manager.username)


API_CSV = (
    "name;enterprise_number;address;contact_person;email;phone\n"
    "Bakkerij Peeters;0440966354;Markt 1, 9000 Gent;Jan Peeters;jan@peeters.example;+3292345678\n"
    "Librairie Lefèvre;0831797467;Rue Haute 5, 1000 Bruxelles;Hélène;h@lefevre.example;"
    "+3225550000\n"
)


def test_the_api_imports_the_same_csv_all_or_nothing(api):
    response = api("manager").post(
        "/api/controllers/import/", API_CSV.encode(), content_type="text/csv"
    )
    assert response.status_code == 201, response.content[:300]
    assert response.json() == {"created": 2, "updated": 0}
    assert sorted(Controller.objects.values_list("name", flat=True)) == [
        "Bakkerij Peeters",
        "Librairie Lefèvre",
    ]
    bad = API_CSV.replace("0831797467", "0831797468").replace("Peeters;", "Peeters2;", 1)
    refused = api("manager").post("/api/controllers/import/", bad.encode(), content_type="text/csv")
    assert refused.status_code == 400
    assert refused.json()["errors"][0].startswith("Line 3: enterprise_number: ")
    assert Controller.objects.get(enterprise_number="0440966354").name == "Bakkerij Peeters"


def test_the_api_import_takes_a_file_field_too(api):
    from django.core.files.uploadedfile import SimpleUploadedFile

    upload = SimpleUploadedFile("controllers.csv", API_CSV.encode(), content_type="text/csv")
    response = api("dpo").post("/api/controllers/import/", {"file": upload}, format="multipart")
    assert response.status_code == 201, response.content[:300]


def test_security_staff_may_not_import_controllers(api):
    response = api("security").post(
        "/api/controllers/import/", API_CSV.encode(), content_type="text/csv"
    )
    assert response.status_code == 403
    assert not Controller.objects.exists()


def test_a_field_longer_than_csv_allows_is_a_400_naming_its_line(api):
    huge = API_CSV.replace("Markt 1, 9000 Gent", "x" * 140_000)
    response = api("manager").post(
        "/api/controllers/import/", huge.encode(), content_type="text/csv"
    )
    assert response.status_code == 400
    assert response.json()["errors"] == [
        "Line 2 cannot be read as CSV (field larger than field limit (131072)): check its "
        "quotes and length."
    ]
    assert not Controller.objects.exists()


def test_an_import_records_each_new_controller_in_the_trail(api):
    from incidents.models import ReferenceChange

    api("manager").post("/api/controllers/import/", API_CSV.encode(), content_type="text/csv")
    added = ReferenceChange.objects.filter(model="incidents.Controller", action="added")
    assert added.count() == 2
    first = added.get(object_repr="Bakkerij Peeters")
    assert first.after["activities"] == [] and first.after["email"] == "jan@peeters.example"
    assert first.actor.username == "manager"


def test_a_dutch_reader_sees_each_column_with_what_it_is_in_dutch(client, manager):
    manager.language = "nl"
    manager.save()
    client.force_login(manager)
    bad = GOOD[1].replace("BE 0831 797 467", "0831.797.468")
    errors = upload(client, [bad]).context["errors"]
    assert errors[0].startswith(
        "Regel 2: enterprise_number (Ondernemingsnummer): 0831797468 is "
    ), errors[0]


@pytest.mark.parametrize(
    "body", [{"data": b"", "content_type": "text/csv"}, {"data": {}, "format": "multipart"}]
)
def test_an_import_without_a_file_says_how_to_send_one(api, body):
    refused = api("manager").post("/api/controllers/import/", **body)
    assert (refused.status_code, refused.json()) == (
        400,
        {"errors": ["Send the CSV file as the body (text/csv) or as `file`."]},
    )


@pytest.mark.parametrize(
    ("written", "mandate"),
    [
        *[(word, True) for word in ["Ja", "OUI", "yes", "1", "x"]],
        *[(word, False) for word in ["Nee", "NON", "no", "0"]],
        ("", True),  # left empty: Conitro notifies for them, as its privacy policy promises
    ],
)
def test_a_yes_or_no_is_read_in_each_language_people_write_it(client, manager, written, mandate):
    client.force_login(manager)
    response = upload(client, [GOOD[0].replace(";ja;1", f";{written};1")])
    assert response.status_code == 302
    assert Controller.objects.get(enterprise_number="0440966354").gba_on_behalf is mandate


def test_a_yes_or_no_the_desk_cannot_read_is_refused_naming_its_line(client, manager):
    client.force_login(manager)
    response = upload(client, [GOOD[0].replace(";ja;1", ";misschien;1")])
    assert response.status_code == 200
    assert "misschien" in response.content.decode()
    assert not Controller.objects.exists()
