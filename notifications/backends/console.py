"""Writes each SMS or call to standard output: the development default."""

import sys


class ConsoleBackend:
    def send(self, message):
        sys.stdout.write(f"[{message.channel}] to {message.to}: {message.text}\n")
        sys.stdout.flush()
        return f"console-{message.pk}"
