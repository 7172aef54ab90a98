"""One file per message, with recipient, text and time: for demos and the benchmark."""

from pathlib import Path

from django.conf import settings
from django.utils import timezone


class FileBackend:
    setting = ""

    def send(self, message):
        folder = Path(getattr(settings, self.setting))
        folder.mkdir(parents=True, exist_ok=True)
        now = timezone.now()
        path = folder / f"{now:%Y%m%d-%H%M%S}-{message.pk}-{message.channel}.txt"
        path.write_text(
            f"To: {message.to}\nAt: {now.isoformat()}\nMessage: {message.pk}\n\n{message.text}\n",
            encoding="utf-8",
        )
        return f"file-{message.pk}"


class SmsFileBackend(FileBackend):
    setting = "SMS_FILE_PATH"


class VoiceFileBackend(FileBackend):
    setting = "VOICE_FILE_PATH"
