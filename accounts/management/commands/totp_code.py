"""Development only: the current second-factor code of a demo person, so that the demo can be
tried without an authenticator app. Refuses to run with DEBUG off."""

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.models import User


class Command(BaseCommand):
    help = "Print a person's current TOTP code (development only), creating their key if needed."

    def add_arguments(self, parser):
        parser.add_argument("username")

    def handle(self, username, **options):
        if not settings.DEBUG:
            raise CommandError("totp_code is for development only (DJANGO_DEBUG=1).")
        user = User.objects.filter(username=username).first()
        if user is None:
            raise CommandError(f"Nobody is called {username!r}.")
        device = TOTPDevice.objects.filter(user=user).order_by("-confirmed").first()
        if device is None:
            device = TOTPDevice.objects.create(user=user, name="demo", confirmed=True)
        value = totp(device.bin_key, device.step, device.t0, device.digits, device.drift)
        self.stdout.write(f"{value:0{device.digits}d}")
