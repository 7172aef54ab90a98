"""Management commands: adduser, drf_create_token, seed_demo, and the production check."""

import os
import re
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from accounts.models import User
from incidents.models import Controller, Incident

pytestmark = pytest.mark.django_db
ROOT = Path(__file__).resolve().parent.parent


def test_adduser_creates_a_person_in_a_role(capsys):
    call_command(
        "adduser", "els", "--role", "manager", "--email", "els@conitro.be",
        "--phone", "0471 23 45 67", "--password", "s3cret-enough",
    )  # fmt: skip
    user = User.objects.get(username="els")
    assert user.phone == "+32471234567"
    assert user.roles == ["manager"]
    assert user.check_password("s3cret-enough")
    assert user.has_perm("incidents.notify_incident")
    assert not user.has_perm("incidents.view_register")


def test_adduser_generates_and_prints_a_password(capsys):
    call_command("adduser", "jo", "--role", "dpo", "--email", "jo@x.be", "--phone", "+32471000009")
    password = capsys.readouterr().out.split("Password: ")[1].strip()
    assert User.objects.get(username="jo").check_password(password)


def test_adduser_refuses_a_bad_phone_and_creates_nobody():
    with pytest.raises(CommandError, match="international form"):
        call_command("adduser", "x", "--role", "security", "--email", "x@x.be", "--phone", "12")
    assert not User.objects.filter(username="x").exists()


def test_adduser_refuses_a_duplicate(security):
    with pytest.raises(CommandError, match="already exists"):
        call_command(
            "adduser",
            "security",
            "--role",
            "security",
            "--email",
            "a@b.be",
            "--phone",
            "0471000000",
        )


def test_drf_create_token(security, capsys):
    call_command("drf_create_token", "security")
    assert "Generated token" in capsys.readouterr().out


def test_seed_demo_is_idempotent(capsys, settings):
    settings.DEBUG = True
    call_command("seed_demo")
    counts = (User.objects.count(), Controller.objects.count(), Incident.objects.count())
    call_command("seed_demo")
    assert (User.objects.count(), Controller.objects.count(), Incident.objects.count()) == counts
    assert counts[2] == 5 and Controller.objects.filter(is_conitro=True).count() == 1
    assert "breachdesk-demo" in capsys.readouterr().out
    # The first `make run` pages about the open demo incidents only, not the settled ones.
    from notifications.models import Message
    from notifications.tasks import dispatch

    dispatch()
    paged = set(Message.objects.values_list("incident__title", flat=True))
    settled = {
        "Back-upschijf verloren tijdens transport",
        "Golf van mislukte aanmeldingen op de webwinkel",
    }
    assert "Factuurmails naar de verkeerde klanten" in paged and not paged & settled


def test_the_roles_exist_after_migrating():
    from django.contrib.auth.models import Group

    assert set(Group.objects.values_list("name", flat=True)) >= {"security", "manager", "dpo"}


def production_environment(**variables):
    """The environment a person runs: the application's settings, not the test suite's."""
    return {**os.environ, "DJANGO_SETTINGS_MODULE": "incident_manager.settings", **variables}


def test_check_deploy_is_clean_with_production_settings():
    env = {
        **production_environment(),
        "DJANGO_DEBUG": "0",
        "DJANGO_SECRET_KEY": "x" * 64 + "-a-long-random-production-key",
        "ALLOWED_HOSTS": "breachdesk.conitro.be",
    }
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_production_settings_refuse_to_start_without_a_secret_key():
    env = production_environment(DJANGO_DEBUG="0")
    env.pop("DJANGO_SECRET_KEY", None)
    result = subprocess.run(
        [sys.executable, "manage.py", "check"], cwd=ROOT, env=env, capture_output=True, text=True
    )
    assert result.returncode != 0
    assert "DJANGO_SECRET_KEY" in result.stderr


def test_the_settings_a_person_runs_hash_passwords_with_pbkdf2():
    """The suite's fast MD5 hasher (tests/settings.py) must never reach a real login."""
    script = "from django.contrib.auth.hashers import get_hasher; print(get_hasher().algorithm)"
    result = subprocess.run(
        [sys.executable, "manage.py", "shell", "-c", script],
        cwd=ROOT,
        env=production_environment(),
        capture_output=True,
        text=True,
    )
    assert result.stdout.splitlines()[-1] == "pbkdf2_sha256", result.stdout + result.stderr


def test_seed_demo_refuses_to_run_with_debug_off(settings):
    settings.DEBUG = False
    with pytest.raises(CommandError, match="development only"):
        call_command("seed_demo")
    assert not User.objects.exists()


def test_production_serves_pages_and_static_files_through_gunicorn(tmp_path):
    """`make serve` in short: collectstatic, then gunicorn with DEBUG off; the CSS and the
    countdown script are served (WhiteNoise) and every page carries the CSP."""
    port = free_port()
    env = production_environment(
        DJANGO_DEBUG="0",
        DJANGO_SECRET_KEY="y" * 64 + "-production-like-key",
        ALLOWED_HOSTS="127.0.0.1",
        SECURE_SSL_REDIRECT="0",
        STATIC_ROOT=str(tmp_path / "static"),
        DATABASE_URL=f"sqlite:///{tmp_path / 'db.sqlite3'}",
    )
    run = {"cwd": ROOT, "env": env, "capture_output": True, "text": True, "check": True}
    subprocess.run([sys.executable, "manage.py", "collectstatic", "--noinput"], **run)
    gunicorn = Path(sys.executable).with_name("gunicorn")
    server = subprocess.Popen(
        [gunicorn, "incident_manager.wsgi", "--bind", f"127.0.0.1:{port}", "--workers", "1"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        login = fetch(f"http://127.0.0.1:{port}/login/")
        assert login.status == 200
        assert "script-src 'self'" in login.headers["Content-Security-Policy"]
        page = login.read().decode()
        for asset in re.findall(r'(?:href|src)="(/static/[^"]+)"', page):
            assert fetch(f"http://127.0.0.1:{port}{asset}").status == 200, asset
        assert re.search(r"/static/countdown\.[0-9a-f]{12}\.js", page)  # hashed, cacheable
        with pytest.raises(urllib.error.HTTPError) as refused:
            fetch(f"http://127.0.0.1:{port}/api/schema/")
        assert refused.value.code == 401  # the token scheme asks for credentials
    finally:
        server.terminate()
        server.wait(timeout=10)


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def fetch(url, tries=50):
    for _ in range(tries):
        try:
            return urllib.request.urlopen(url, timeout=5)  # noqa: S310 - our own test server
        except urllib.error.URLError as error:
            if isinstance(error, urllib.error.HTTPError):
                raise
            time.sleep(0.1)
    raise AssertionError(f"{url} did not answer")


@pytest.mark.parametrize(
    ("environment", "trusted"),
    [
        ({}, ""),
        ({"BEHIND_TLS_PROXY": "0"}, ""),
        ({"BEHIND_TLS_PROXY": "1"}, "127.0.0.1,::1"),
        ({"BEHIND_TLS_PROXY": "1", "TRUSTED_PROXIES": "10.0.0.2"}, "10.0.0.2"),
    ],
    ids=["unset", "off", "behind a local proxy", "behind a named proxy"],
)
def test_gunicorn_trusts_forwarded_headers_only_behind_the_proxy(monkeypatch, environment, trusted):
    """gunicorn's own default trusts X-Forwarded-Proto from 127.0.0.1: a client on the server
    could claim HTTPS. `make serve` reads gunicorn.conf.py from the project's folder."""
    import runpy

    monkeypatch.delenv("BEHIND_TLS_PROXY", raising=False)
    monkeypatch.delenv("TRUSTED_PROXIES", raising=False)
    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    config = runpy.run_path(str(ROOT / "gunicorn.conf.py"))
    assert config["forwarded_allow_ips"] == trusted


def test_a_wrong_enterprise_number_of_the_organisation_stops_the_desk_at_start(settings):
    from django.core import management
    from django.core.management.base import SystemCheckError

    settings.ORGANISATION = {**settings.ORGANISATION, "enterprise_number": "0431150351"}
    with pytest.raises(SystemCheckError) as refused:
        management.call_command("check")
    assert "incidents.E001" in str(refused.value)
    assert "its check digits do not match" in str(refused.value)
    settings.ORGANISATION = {**settings.ORGANISATION, "enterprise_number": "0694.679.950"}
    management.call_command("check")


def test_the_migrations_make_the_models_as_they_are():
    """SQLite's test databases are made from the models (make test), PostgreSQL's from the
    migrations: a model changed without its migration would pass on one and not the other."""
    from io import StringIO

    from django.test.utils import override_settings

    out = StringIO()
    with override_settings(MIGRATION_MODULES={}):  # seen even under --no-migrations
        call_command("makemigrations", "--check", "--dry-run", stdout=out)
    assert out.getvalue() == "No changes detected\n"


def test_the_system_checks_find_nothing_wrong():
    """Django's own checks of the models, the admin, the URLs and the templates, as
    `manage.py check` runs them at every start: an admin column naming no field, a model field
    without its limit, a URL to nothing stop the desk."""
    from io import StringIO

    from django.core import management

    out = StringIO()
    management.call_command("check", stdout=out)
    assert out.getvalue() == "System check identified no issues (0 silenced).\n"
