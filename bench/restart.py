"""After a restart, how soon does a step that fell due while the cluster was down go out?

    .venv/bin/python bench/restart.py

A fresh SQLite database and the file-based SMS back end. A real `qcluster` sends an incident's
first alert and is stopped; step 2 (aware + 4 h) falls due while it is down; the cluster is
started again, and this prints the seconds from its start to step 2's SMS being sent.
"""

import os
import subprocess
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
WORK = Path(tempfile.mkdtemp(prefix="breachdesk-restart-"))
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "incident_manager.settings")
os.environ.update(
    DATABASE_URL=f"sqlite:///{WORK / 'db.sqlite3'}",
    SMS_BACKEND="filebased",
    VOICE_BACKEND="filebased",
    SMS_FILE_PATH=str(WORK / "sms"),
    EMAIL_BACKEND="django.core.mail.backends.filebased.EmailBackend",
    EMAIL_FILE_PATH=str(WORK / "email"),
    LOG_LEVEL="WARNING",
)

import django  # noqa: E402

django.setup()

from django.contrib.auth.models import Group  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.utils import timezone  # noqa: E402

from accounts.models import User  # noqa: E402
from incidents import workflow  # noqa: E402
from notifications.models import Message  # noqa: E402


def cluster():
    return subprocess.Popen(
        [sys.executable, "manage.py", "qcluster"],
        cwd=ROOT,
        env=os.environ,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def wait_for(condition, limit=120):
    started = time.monotonic()
    while not condition():
        if time.monotonic() - started > limit:
            return None
        time.sleep(0.1)
    return time.monotonic() - started


def main():
    call_command("migrate", verbosity=0)
    for username, role in [("sec", "security"), ("man", "manager")]:
        user = User.objects.create_user(
            username, f"{username}@x.example", "x", phone="+32471000001"
        )
        user.groups.add(Group.objects.get(name=role))
    running = cluster()
    due_in = 15
    incident = workflow.log_incident(
        User.objects.get(username="sec"),
        title="Restart",
        description="d",
        aware_at=timezone.now() - timedelta(hours=4) + timedelta(seconds=due_in),
    )
    first = Message.objects.filter(incident=incident, firing__step__position=1)
    wait_for(lambda: first.exists() and not first.exclude(status="sent").exists())
    running.terminate()
    running.wait(timeout=60)
    time.sleep(due_in + 5)  # step 2 falls due while the cluster is down
    started = time.monotonic()
    running = cluster()
    step2 = Message.objects.filter(incident=incident, firing__step__position=2, status="sent")
    waited = wait_for(step2.exists)
    running.terminate()
    running.wait(timeout=60)
    since_start = "not within 120" if waited is None else f"{time.monotonic() - started:.1f}"
    print(f"step 2, due while the cluster was down: sent {since_start} s after the cluster started")


if __name__ == "__main__":
    main()
