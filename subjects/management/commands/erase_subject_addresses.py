from django.core.management.base import BaseCommand

from subjects.retention import erase_due


class Command(BaseCommand):
    help = "Erase the addresses of communications sent longer ago than SUBJECT_ADDRESSES_KEPT_DAYS."

    def handle(self, **options):
        self.stdout.write(f"{erase_due()} addresses erased")
