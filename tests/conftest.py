"""Shared fixtures: people in each role, controllers, categories and incidents in each state,
all made through the same workflow the application uses."""

import os
import shutil
import tempfile
from datetime import timedelta
from decimal import Decimal

import pytest
from django.contrib.auth.models import Group, Permission
from django.core.cache import cache, caches
from django.db import connection, connections
from django.test import Client
from django.utils import timezone, translation
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.plugins.otp_totp.models import TOTPDevice
from django_q.conf import Conf
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from accounts.models import User
from accounts.roles import grant_roles
from incidents import workflow
from incidents.models import Controller, DataCategory, Incident, SubjectCategory
from notifications.backends import locmem
from notifications.defaults import create_default_policy
from notifications.models import EscalationPolicy, EscalationStep

# `make mutate` and bench/mutants.py run the suite once per planted bug, and migrating a new test
# database took 2 s of each run (9 s on PostgreSQL): there, every run copies a database migrated
# once (TEST_DATABASE_TEMPLATE: a SQLite file, kept; or a PostgreSQL database's name, which the
# test database is created from, so the migrations find nothing left to do).
TEMPLATE = os.environ.get("TEST_DATABASE_TEMPLATE")


def sqlite_template():
    return bool(TEMPLATE) and connections["default"].vendor == "sqlite"


@pytest.fixture(scope="session")
def django_db_keepdb(request):
    return request.config.getvalue("reuse_db") or sqlite_template()


@pytest.fixture(scope="session")
def django_db_modify_db_settings(django_db_modify_db_settings_parallel_suffix):
    database = connections["default"].settings_dict
    if TEMPLATE and not sqlite_template():
        database["TEST"]["TEMPLATE"] = TEMPLATE
    if not sqlite_template():
        yield
        return
    handle, copy = tempfile.mkstemp(prefix="breachdesk-test-", suffix=".sqlite3")
    os.close(handle)
    shutil.copyfile(TEMPLATE, copy)
    database["TEST"]["NAME"] = copy
    yield
    for suffix in ("", "-wal", "-shm"):
        if os.path.exists(copy + suffix):
            os.remove(copy + suffix)


@pytest.fixture(autouse=True)
def english():
    """Tests read messages in English; test_translations.py checks the Dutch ones."""
    with translation.override("en"):
        yield


@pytest.fixture(autouse=True)
def empty_cache(request):
    """Throttling counts live in the shared cache (a database table without Redis): each test
    starts with none. A test's own transaction rolls its counts back; a transactional test's
    stay, so they are cleared before it."""
    cache.clear()
    marker = request.node.get_closest_marker("django_db")
    if (marker and marker.kwargs.get("transaction")) or "transactional_db" in request.fixturenames:
        caches["shared"].clear()


@pytest.fixture(autouse=True)
def channels(settings, monkeypatch):
    """Messages go to in-memory outboxes and django-q2 runs tasks inline."""
    settings.SMS_BACKEND = "locmem"
    settings.VOICE_BACKEND = "locmem"
    settings.PUBLIC_BASE_URL = "https://breachdesk.example"
    monkeypatch.setattr(Conf, "SYNC", True)
    locmem.outbox.clear()
    return locmem.outbox


class VerifiedClient(Client):
    """A test client whose force_login also passes the second factor, as a person who typed
    their TOTP code would (tests/test_login_security.py goes through the real pages)."""

    def force_login(self, user, backend=None):
        super().force_login(user, backend)
        device = TOTPDevice.objects.filter(user=user, confirmed=True).first()
        if device is None:
            device = TOTPDevice.objects.create(user=user, name="test", confirmed=True)
        session = self.session
        session[DEVICE_ID_SESSION_KEY] = device.persistent_id
        session.save()


@pytest.fixture
def client():
    return VerifiedClient()


@pytest.fixture
def admin_client(db, admin_user):
    client = VerifiedClient()
    client.force_login(admin_user)
    return client


@pytest.fixture
def make_user(db):
    """Each person gets their own phone number and e-mail address, so a test can tell who was
    paged and an SMS reply from one person can never pass for another's."""
    made = []

    def make(role, username=None, language="en"):
        if not made:
            roles_granted()
        username = username or role
        user = User.objects.create_user(
            username=username,
            password="pw",
            email=f"{username}@conitro.example",
            phone=f"+324710000{len(made) + 10:02d}",
            display_name=role.title(),
            language=language,
        )
        made.append(user)
        if role != "nobody":
            user.groups.add(Group.objects.get(name=role))
        return User.objects.get(pk=user.pk)

    return make


def roles_granted():
    """Transactional tests flush the groups the migration made; grant them again (before the
    default policy, whose steps page those groups)."""
    if not Group.objects.exists():
        grant_roles(Group, Permission)


@pytest.fixture
def default_policy(db):
    """Transactional tests flush what migrations seeded; this puts the policy back, and the
    recurring dispatch (which releases the pages storm control held when no clock runs)."""
    from django_q.models import Schedule

    from notifications.tasks import SCHEDULE_NAME

    roles_granted()
    Schedule.objects.get_or_create(
        name=SCHEDULE_NAME,
        defaults={
            "func": "notifications.tasks.dispatch",
            "schedule_type": Schedule.MINUTES,
            "minutes": 1,
            "repeats": -1,
            "next_run": timezone.now(),
        },
    )
    return create_default_policy(Group, EscalationPolicy, EscalationStep)


@pytest.fixture
def security(make_user):
    return make_user("security")


@pytest.fixture
def manager(make_user):
    return make_user("manager")


@pytest.fixture
def dpo(make_user):
    return make_user("dpo")


@pytest.fixture
def users(security, manager, dpo):
    return {"security": security, "manager": manager, "dpo": dpo}


@pytest.fixture
def api(users):
    """api("manager") -> an APIClient authenticated with that person's token."""

    def client(role):
        api_client = APIClient()
        token, _ = Token.objects.get_or_create(user=users[role])
        api_client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}", HTTP_ACCEPT_LANGUAGE="en")
        return api_client

    return client


@pytest.fixture
def controller(db):
    return Controller.objects.create(
        name="Bakkerij Van Damme BV",
        enterprise_number="0440966354",
        address="Kerkstraat 12, 9000 Gent",
        contact_person="Els Van Damme",
        email="privacy@vandamme.example",
        phone="+3292345678",
        language="nl",
    )


@pytest.fixture
def second(db):
    """A second, French-speaking controller."""
    return Controller.objects.create(
        name="Librairie Lefèvre SRL",
        enterprise_number="0831797467",
        address="Rue Haute 5, 1000 Bruxelles",
        contact_person="Hélène Lefèvre",
        email="dpo@lefevre.example",
        phone="+3225550000",
        language="fr",
    )


@pytest.fixture
def categories(db):
    data = DataCategory.objects.create(name_nl="E-mailadres", name_fr="E-mail", name_en="E-mail")
    subjects = SubjectCategory.objects.create(name_nl="Klanten", name_fr="Clients", name_en="Cust")
    return data, subjects


@pytest.fixture
def assessment_values():
    return {
        "confidentiality": True,
        "integrity": False,
        "availability": False,
        "cause_origin": "external",
        "cause_actor": "human",
        "cause_intent": "malicious",
        "special_categories": False,
        "subjects_count": 1200,
        "records_count": 3400,
        "consequences": "Phishing of customers.",
        "measures_taken": "Passwords reset.",
        "measures_proposed": "Two-factor authentication.",
        "subjects_informed": "planned",
        "subjects_informed_reason": "E-mail to each customer.",
        "enisa_dpc": 1,
        "enisa_dpc_adjustment": Decimal("0"),
        "enisa_ease_of_identification": Decimal("1.00"),
        "enisa_confidentiality": Decimal("0.50"),
        "enisa_integrity": Decimal("0"),
        "enisa_availability": Decimal("0"),
        "enisa_malicious": True,
        "risk_level": "risk",
    }


@pytest.fixture
def new_incident(security):
    def make(hours_ago=1, title="Admin account phished", ended=True):
        aware = timezone.now() - timedelta(hours=hours_ago)
        return workflow.log_incident(
            security,
            title=title,
            description="Password entered on a fake login page.",
            aware_at=aware,
            ended_at=aware - timedelta(minutes=20) if ended else None,
        )

    return make


@pytest.fixture
def incident_in(new_incident, security, manager, controller, categories, assessment_values):
    """incident_in("gba_notified") -> an incident walked to that state through the workflow."""
    path = ["detected", "assessed", "gba_notified", "controller_notified", "closed"]

    def make(state, hours_ago=1):
        incident = new_incident(hours_ago=hours_ago)
        if state == "dismissed":
            return workflow.transition(incident.pk, manager, "dismiss", reason="No personal data.")
        steps = {
            "assessed": lambda: workflow.assess(
                incident.pk,
                security,
                assessment_values,
                {
                    "data_categories": [categories[0]],
                    "subject_categories": [categories[1]],
                    "controllers": [controller],
                },
            ),
            # Each filing its own reference: DBN-2026-1234 for a test's first incident.
            "gba_notified": lambda: workflow.transition(
                incident.pk,
                manager,
                "notify_gba",
                reference=f"DBN-2026-{1233 + Incident.objects.count()}",
                delay_reason="x",
            ),
            "controller_notified": lambda: workflow.transition(
                incident.pk, manager, "notify_controller", how="E-mail", delay_reason="x"
            ),
            "closed": lambda: workflow.transition(incident.pk, manager, "close"),
        }
        for step in path[1 : path.index(state) + 1]:
            incident = steps[step]()
        return incident

    return make


@pytest.fixture
def process_env(tmp_path):
    """The environment of a real `qcluster` or `clock` process on the test database
    (PostgreSQL), its channels writing one file per message into tmp_path."""
    database = connection.settings_dict
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "tests.settings",
        "DATABASE_URL": (
            f"postgres://{database['USER']}@{database['HOST']}:{database['PORT']}/"
            f"{database['NAME']}"
        ),
        "SMS_BACKEND": "filebased",
        "VOICE_BACKEND": "filebased",
        "SMS_FILE_PATH": str(tmp_path / "sms"),
        "VOICE_FILE_PATH": str(tmp_path / "calls"),
        "EMAIL_BACKEND": "django.core.mail.backends.filebased.EmailBackend",
        "EMAIL_FILE_PATH": str(tmp_path / "email"),
        "LOG_LEVEL": "WARNING",
        # Storm control on, with an interval short enough for a test to see held pages go.
        **{f"PAGE_MIN_INTERVAL_{channel}": "3" for channel in ("SMS", "CALL", "EMAIL")},
    }


@pytest.hookimpl(tryfirst=True, hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """Each phase's report on the test item: the browser fixture saves a screenshot when the
    test failed."""
    outcome = yield
    report = outcome.get_result()
    setattr(item, f"report_{report.when}", report)


def data_migrations_replayed():
    """With --no-migrations (SQLite in `make test`: the tables come straight from the models,
    9 s sooner per worker than running 110 migrations), the data the migrations seed (roles,
    the lists of categories and activities, the deadline table, the default escalation policy,
    the schedules, the NIS2 regime, the shared cache table) is made by running their data steps
    in order against the models. PostgreSQL runs the migrations themselves."""
    from django.apps import apps as models
    from django.db import connection
    from django.db.migrations.loader import MigrationLoader
    from django.db.migrations.operations.special import RunPython
    from django.test.utils import override_settings

    with override_settings(MIGRATION_MODULES={}):  # --no-migrations hides them otherwise
        loader = MigrationLoader(connection)
    plan = []
    for leaf in sorted(loader.graph.leaf_nodes()):
        plan += [node for node in loader.graph.forwards_plan(leaf) if node not in plan]
    # The data steps make permissions by marking apps as having models for a moment; the
    # app registry keeps what it had.
    kept = {config.label: config.models_module for config in models.get_app_configs()}
    try:
        with connection.schema_editor() as editor:
            for node in plan:
                for operation in loader.graph.nodes[node].operations:
                    if isinstance(operation, RunPython):
                        operation.code(models, editor)
    finally:
        for config in models.get_app_configs():
            config.models_module = kept[config.label]


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker, request):  # noqa: F811
    if request.config.getoption("nomigrations"):
        with django_db_blocker.unblock():
            data_migrations_replayed()
