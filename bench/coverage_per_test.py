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
SESSION = "<session>"  # the context of what session fixtures run: the test database's data
recorder = None
durations = {}
running = ""


@pytest.hookimpl(tryfirst=True)
def pytest_load_initial_conftests(early_config, parser, args):
    """Before pytest-django sets Django up: the settings and each app's ready() are measured
    too (what runs outside any test has the empty context, which mutants.py reads as SESSION)."""
    start()


@pytest.hookimpl(tryfirst=True)
def pytest_configure(config):
    start()


def start():
    global recorder
    if recorder is not None:
        return
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
    global running
    running = item.nodeid
    recorder.switch_context(item.nodeid)
    started = time.monotonic()
    yield
    durations[item.nodeid] = time.monotonic() - started
    running = ""
    recorder.switch_context("")


@pytest.hookimpl(hookwrapper=True)
def pytest_fixture_setup(fixturedef, request):
    """A session fixture (the test database, its seeded data: the default escalation policy,
    the roles, the deadline table) runs inside whichever test came first, but every test reads
    what it made: it gets a context of its own, which bench/mutants.py reads as "every test"."""
    if fixturedef.scope != "session":
        yield
        return
    recorder.switch_context(SESSION)
    try:
        yield
    finally:
        recorder.switch_context(running)


def pytest_unconfigure(config):
    recorder.stop()
    recorder.save()
    worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
    (STATE / f"durations-{worker}.json").write_text(json.dumps(durations))
