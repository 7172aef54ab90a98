"""The separate processes a bench runs against: `qcluster`s and clocks, as in production."""

import os
import subprocess
import sys
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


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
