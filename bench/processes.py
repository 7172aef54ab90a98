"""What a bench runs against: a fresh database and file back ends in a temporary directory
(`prepare`, before Django starts), and `qcluster`s and clocks as separate processes, as in
production."""

import os
import subprocess
import sys
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def prepare(work, database, **extra):
    """The environment of the bench and of the processes it starts: the database in `work`
    unless DATABASE_URL names one (empty, disposable), SMS, calls and e-mail written as files
    there."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "incident_manager.settings")
    os.environ.setdefault("DATABASE_URL", f"sqlite:///{work / database}")
    os.environ.update(
        SMS_BACKEND="filebased",
        VOICE_BACKEND="filebased",
        SMS_FILE_PATH=str(work / "sms"),
        VOICE_FILE_PATH=str(work / "calls"),
        EMAIL_BACKEND="django.core.mail.backends.filebased.EmailBackend",
        EMAIL_FILE_PATH=str(work / "email"),
        LOG_LEVEL="WARNING",
        **extra,
    )


@contextmanager
def clusters_and_clocks(clusters, clocks, workers):
    """`clusters` django-q2 clusters of `workers` workers and `clocks` clocks, stopped (SIGTERM,
    as systemd would) when the block ends."""
    env = {**os.environ, "Q_WORKERS": str(workers)}
    processes = [
        subprocess.Popen(
            [sys.executable, "manage.py", command],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for command in ["qcluster"] * clusters + ["clock"] * clocks
    ]
    try:
        yield processes
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            process.wait(timeout=30)
