"""An invitation to set up the second factor, for a new person or after their device was
removed: e-mailed to their own address, or printed for an administrator to hand over."""

from django.core.management.base import BaseCommand, CommandError

from accounts.invitations import invite, send_invitation
from accounts.models import User


class Command(BaseCommand):
    help = "Invite a person to set up their second factor (e-mail, or --print the link)."

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument(
            "--print", action="store_true", help="print the link instead of e-mailing it"
        )

    def handle(self, username, **options):
        user = User.objects.filter(username=username, is_active=True).first()
        if user is None:
            raise CommandError(f"Nobody active is called {username!r}.")
        if options["print"]:
            self.stdout.write(invite(user))
        elif send_invitation(user):
            self.stdout.write(f"Invitation sent to {user.email}.")
        else:
            raise CommandError(f"{username} has no e-mail address: use --print.")
