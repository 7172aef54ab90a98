"""Import controllers from a CSV file (incidents/controller_import.py): all lines or none."""

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from accounts.models import User
from incidents.controller_import import import_controllers


class Command(BaseCommand):
    help = "Import controllers from a CSV file; nothing is saved unless every line is correct."

    def add_arguments(self, parser):
        parser.add_argument("path", help="the CSV file (UTF-8, ; or , between fields)")
        parser.add_argument("--as", dest="username", required=True, help="who imports (audit)")

    def handle(self, path, username, **options):
        user = User.objects.filter(username=username).first()
        if user is None or not user.has_perm("incidents.add_controller"):
            raise CommandError(f"{username!r} is no one who may add controllers.")
        try:
            with open(path, "rb") as handle:
                created, updated = import_controllers(user, handle.read())
        except OSError as error:
            raise CommandError(f"Cannot read {path}: {error.strerror}") from error
        except ValidationError as refusal:
            raise CommandError("Nothing was imported:\n" + "\n".join(refusal.messages)) from None
        self.stdout.write(f"{created} controllers added, {updated} updated.")
