"""Demo people, controllers and incidents for `make run`. Running it again adds nothing."""

from datetime import timedelta
from decimal import Decimal

from django.conf import settings
from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils import timezone

from accounts.models import User
from incidents import workflow
from incidents.models import Controller, DataCategory, Incident, SubjectCategory

PEOPLE = [
    ("sam", "security", "Sam Peeters", "+32471000001", "nl"),
    ("mia", "manager", "Mia Janssens", "+32471000002", "nl"),
    ("dirk", "dpo", "Dirk De Smet", "+32471000003", "nl"),
]
PASSWORD = "breachdesk-demo"

CONTROLLERS = [
    ("Bakkerij Van Damme BV", "0440966354", "Kerkstraat 12\n9000 Gent", "Els Van Damme", "nl"),
    ("Librairie Lefèvre SRL", "0831797467", "Rue Haute 5\n1000 Bruxelles", "Hélène Lefèvre", "fr"),
    ("Proximus NV", "0203201340", "Koning Albert II-laan 27\n1030 Brussel", "Jan Maes", "nl"),
]


class Command(BaseCommand):
    help = "Load demo people, controllers and incidents (idempotent) and print the logins."

    @transaction.atomic
    def handle(self, **options):
        if not settings.DEBUG:
            # The demo password is in the README: never on a server that people rely on.
            raise CommandError(
                "seed_demo creates people with a public password: development only "
                "(DJANGO_DEBUG=1). Create real people with `manage.py adduser`."
            )
        people = {row[0]: self.person(*row) for row in PEOPLE}
        for name, number, address, contact, language in CONTROLLERS:
            Controller.objects.get_or_create(
                enterprise_number=number,
                defaults={
                    "name": name,
                    "address": address,
                    "contact_person": contact,
                    "email": f"privacy@{number}.example",
                    "phone": "+3225550000",
                    "language": language,
                },
            )
        if not Incident.objects.exists():
            self.incidents(people["sam"], people["mia"])
        self.stdout.write(f"Demo logins (password for each: {PASSWORD}):")
        for username, role, name, *_ in PEOPLE:
            self.stdout.write(f"  {username:<6} {role:<9} {name}")
        self.stdout.write(
            "  mia and dirk also need a code from an authenticator app: scan the QR code shown\n"
            "  after the password, or, in development, `.venv/bin/python manage.py totp_code mia`."
        )

    def person(self, username, role, name, phone, language):
        user, created = User.objects.get_or_create(
            username=username,
            defaults={
                "display_name": name,
                "email": f"{username}@conitro.example",
                "phone": phone,
                "language": language,
                "is_staff": role == "dpo",
            },
        )
        if created:
            user.set_password(PASSWORD)
            user.save()
            user.groups.add(Group.objects.get(name=role))
        return user

    def incidents(self, security, manager):
        now = timezone.now()
        workflow.log_incident(
            security,
            title="Phishing: webshop admin account compromised",
            description="An employee entered their password on a fake Mollie login page.",
            aware_at=now - timedelta(hours=1),
            discovered_how="Reported by the employee.",
        )
        misdirected = workflow.log_incident(
            security,
            title="Invoice e-mails sent to the wrong customers",
            description="A batch job mixed up addresses: 212 invoices went to other customers.",
            aware_at=now - timedelta(hours=14),
        )
        self.assess(misdirected, security)
        lost = workflow.log_incident(
            security,
            title="Backup disk lost in transit",
            description="An unencrypted backup disk did not arrive at the off-site store.",
            aware_at=now - timedelta(hours=22),
        )
        self.assess(lost, security)
        workflow.transition(lost.pk, manager, "notify_gba", reference="DBN-2026-000731")
        noise = workflow.log_incident(
            security,
            title="Burst of failed logins on the shop",
            description="Credential stuffing attempt; no account was accessed.",
            aware_at=now - timedelta(hours=30),
        )
        workflow.transition(
            noise.pk,
            manager,
            "dismiss",
            reason="All attempts failed (rate limiting and 2FA); no personal data was accessed.",
        )

    def assess(self, incident, user):
        workflow.assess(
            incident.pk,
            user,
            {
                "confidentiality": True,
                "cause_origin": "internal",
                "cause_actor": "technical",
                "cause_intent": "accidental",
                "subjects_count": 212,
                "records_count": 212,
                "consequences": "Customers' names, addresses and purchases seen by others.",
                "measures_taken": "Batch job stopped; recipients asked to delete the e-mails.",
                "measures_proposed": "Test the address mapping before each run.",
                "subjects_informed": "planned",
                "subjects_informed_reason": "E-mail to each customer concerned.",
                "enisa_dpc": 1,
                "enisa_ease_of_identification": Decimal("1.00"),
                "enisa_confidentiality": Decimal("0.25"),
                "risk_level": "risk",
            },
            {
                "data_categories": DataCategory.objects.filter(position__in=[1, 2, 9]),
                "subject_categories": SubjectCategory.objects.filter(position=1),
                "controllers": Controller.objects.filter(enterprise_number="0440966354"),
            },
        )
