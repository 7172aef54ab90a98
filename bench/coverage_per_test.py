"""A pytest plugin for bench/mutants.py: which test executes which line of the application.

Each pytest process (each xdist worker) records coverage with the running test's node id as
the context, and each test's duration, into mutants-whole/.
"""

import json
import os
import time
from pathlib import Path

import coverage
import pytest

ROOT = Path(__file__).resolve().parent.parent
STATE = ROOT / "mutants-whole"
PACKAGES = ("incidents", "notifications", "accounts", "subjects", "incident_manager")
recorder = None
durations = {}


@pytest.hookimpl(tryfirst=True)
def pytest_configure(config):
    global recorder
    STATE.mkdir(exist_ok=True)
    recorder = coverage.Coverage(
        data_file=str(STATE / "coverage"),
        data_suffix=True,
        source=[str(ROOT / package) for package in PACKAGES],
        omit=["*/migrations/*"],
    )
    recorder.start()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_protocol(item, nextitem):
    recorder.switch_context(item.nodeid)
    started = time.monotonic()
    yield
    durations[item.nodeid] = time.monotonic() - started
    recorder.switch_context("")


def pytest_unconfigure(config):
    recorder.stop()
    recorder.save()
    worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
    (STATE / f"durations-{worker}.json").write_text(json.dumps(durations))
