"""`manage.py clock`: fire escalation steps on the second they are due (notifications/clock.py)."""

import signal

from django.conf import settings
from django.core.management.base import BaseCommand

from notifications.clock import Clock


class Command(BaseCommand):
    help = "Fire escalation steps on the second they are due; stops on SIGTERM or Ctrl-C."

    def add_arguments(self, parser):
        parser.add_argument(
            "--workers",
            type=int,
            default=settings.CLOCK_WORKERS,
            help="threads that send the messages of what the clock fires (CLOCK_WORKERS)",
        )

    def handle(self, *args, workers, **options):
        clock = Clock(senders=max(workers, 0))
        signal.signal(signal.SIGTERM, clock.stop)
        signal.signal(signal.SIGINT, clock.stop)
        self.stdout.write(f"clock: running with {workers} sender threads; SIGTERM stops it")
        self.stdout.flush()
        clock.run()
