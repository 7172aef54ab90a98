"""Keeps messages in `outbox`, like django.core.mail's locmem back end: for tests."""

outbox = []


class LocmemBackend:
    def send(self, message):
        outbox.append(message)
        return f"locmem-{message.pk}"
