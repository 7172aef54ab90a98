"""Demo people, controllers and incidents for `make run`. Running it again adds nothing."""

from datetime import timedelta
from decimal import Decimal

from django.conf import settings
from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils import timezone

from accounts.models import User
from incidents import ports, workflow
from incidents.models import (
    Controller,
    DataCategory,
    Incident,
    ProcessingActivity,
    SubjectCategory,
)

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
                    "dpo_name": f"DPO {name.split()[0]}",
                    "dpo_email": f"dpo@{number}.example",
                    # The bookshop's agreement lets it notify the GBA itself.
                    "gba_on_behalf": language == "nl",
                },
            )
        if not Incident.objects.exists():
            self.incidents(people["sam"], people["mia"])
        self.stdout.write(f"Demo logins (password for each: {PASSWORD}):")
        for username, role, name, *_ in PEOPLE:
            self.stdout.write(f"  {username:<6} {role:<9} {name}")
        self.stdout.write(
            "  mia and dirk also need a code from an authenticator app. After the password, ask\n"
            "  for the invitation e-mail (printed in this terminal in development), open its\n"
            "  link and scan the QR code; or, in development, run\n"
            "  `.venv/bin/python manage.py totp_code mia`."
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
        bakery = Controller.objects.filter(enterprise_number="0440966354")
        both = Controller.objects.filter(enterprise_number__in=["0440966354", "0831797467"])
        workflow.log_incident(
            security,
            title="Phishing: beheerdersaccount van de webwinkel overgenomen",
            description="Een medewerker gaf zijn wachtwoord in op een valse Mollie-loginpagina.",
            aware_at=now - timedelta(hours=1),
            discovered_how="Gemeld door de medewerker.",
            controllers=list(bakery),
        )
        misdirected = workflow.log_incident(
            security,
            title="Factuurmails naar de verkeerde klanten",
            description="Een batchjob verwisselde adressen: 212 facturen gingen naar anderen.",
            aware_at=now - timedelta(hours=14),
        )
        self.assess(misdirected, security, both, known=False)
        lost = workflow.log_incident(
            security,
            title="Back-upschijf verloren tijdens transport",
            description="Een niet-versleutelde back-upschijf kwam niet aan in de externe opslag.",
            aware_at=now - timedelta(hours=22),
        )
        self.assess(lost, security, bakery)
        # The controller was told first, the GBA after: both are Conitro's promise.
        workflow.transition(lost.pk, manager, "notify_controller", how="Telefoon met Els Van Damme")
        workflow.transition(lost.pk, manager, "notify_gba", reference="DBN-2026-000731")
        # Conitro's own webshop: its customers' data, Conitro the controller; reported by
        # its payment provider, whose message started Conitro's awareness.
        workflow.log_incident(
            security,
            title="Klantentabel van de eigen webwinkel in een openbare back-up",
            description="Een back-up met namen, adressen en bestellingen van klanten stond "
            "twee uur openbaar.",
            aware_at=now - timedelta(hours=3),
            told_by="Mollie B.V.",
            discovered_how="Mollie meldde verdachte betaalpogingen met echte klantgegevens.",
            conitro_is_controller=True,
        )
        noise = workflow.log_incident(
            security,
            title="Golf van mislukte aanmeldingen op de webwinkel",
            description="Credential stuffing; geen enkel account werd geopend.",
            aware_at=now - timedelta(hours=30),
        )
        workflow.transition(
            noise.pk,
            manager,
            "dismiss",
            reason="Alle pogingen mislukten (rate limiting en 2FA); geen persoonsgegevens geraakt.",
        )
        # The first `make run` pages about what is still open, not about demo incidents that
        # were settled before anyone could be paged: their pages are recorded as not needed.
        for settled in (lost, noise):
            ports.paging.settle_unpaged(settled)

    def assess(self, incident, user, controllers, known=True):
        """known=False: a phased notification, the numbers and the cause not known yet."""
        workflow.assess(
            incident.pk,
            user,
            {
                "confidentiality": True,
                "cause_origin": "internal" if known else "unknown",
                "cause_actor": "technical" if known else "unknown",
                "cause_intent": "accidental" if known else "unknown",
                "subjects_count": 212 if known else None,
                "records_count": 212 if known else None,
                "consequences": "Namen, adressen en aankopen van klanten gezien door anderen.",
                "measures_taken": "Batchjob gestopt; ontvangers gevraagd de e-mails te wissen.",
                "measures_proposed": "De adreskoppeling testen vóór elke run.",
                "measures_before": "Toegang op need-to-know, TLS, up-to-date software.",
                "subjects_informed": "planned",
                "subjects_informed_reason": "E-mail aan elke betrokken klant.",
                "enisa_dpc": 1,
                "enisa_ease_of_identification": Decimal("1.00"),
                "enisa_confidentiality": Decimal("0.25"),
                "risk_level": "risk",
            },
            {
                "data_categories": DataCategory.objects.filter(position__in=[1, 2, 9]),
                "subject_categories": SubjectCategory.objects.filter(position=1),
                "processing_activities": ProcessingActivity.objects.filter(position=0),
                "controllers": controllers,
            },
        )
