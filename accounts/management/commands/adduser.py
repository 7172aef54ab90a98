"""python manage.py adduser USERNAME --role ROLE --email E --phone P [--password PW]"""

import secrets

from django.contrib.auth.models import Group
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from accounts.models import LANGUAGES, User
from accounts.roles import DPO, ROLES
from incidents.identifiers import normalize_phone, validate_phone


class Command(BaseCommand):
    help = "Create a person with a role (security, manager or dpo)."

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("--role", required=True, choices=ROLES)
        parser.add_argument("--email", required=True)
        parser.add_argument("--phone", required=True, help="E.164, or a Belgian 04.. number")
        parser.add_argument("--password", help="a random one is generated and printed if absent")
        parser.add_argument("--name", default="", help="display name")
        parser.add_argument("--language", default="nl", choices=[code for code, _ in LANGUAGES])

    def handle(self, username, role, email, phone, password, name, language, **options):
        if User.objects.filter(username=username).exists():
            raise CommandError(f"A user named {username!r} already exists.")
        try:
            validate_phone(phone)
        except ValidationError as error:
            raise CommandError(error.messages[0]) from error
        generated = password is None
        password = password or secrets.token_urlsafe(12)
        user = User(
            username=username,
            email=email,
            phone=normalize_phone(phone),
            display_name=name,
            language=language,
            is_staff=role == DPO,  # the DPO keeps reference data in the admin
        )
        try:
            validate_password(password, user)  # the same rules as everywhere a password is set
        except ValidationError as error:
            raise CommandError("The password is too weak: " + " ".join(error.messages)) from error
        user.set_password(password)
        try:
            user.full_clean()
        except ValidationError as error:
            raise CommandError("; ".join(error.messages)) from error
        with transaction.atomic():
            user.save()
            user.groups.add(Group.objects.get(name=role))
        self.stdout.write(f"Created {username} ({role}).")
        if generated:
            self.stdout.write(f"Password: {password}")
