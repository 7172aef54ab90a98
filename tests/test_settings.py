"""The environment variables the README documents are the ones the settings read: each,
set, changes what the desk runs with (a misspelt name in settings.py would be ignored
silently, and the desk would run with its default)."""

import re
import runpy
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
# Read with other variables only: the production settings with DJANGO_DEBUG=0.
PRODUCTION = {"DJANGO_DEBUG": "0", "DJANGO_SECRET_KEY": "k" * 50}
NEEDS = {
    "DJANGO_DEBUG": {"DJANGO_SECRET_KEY": "k" * 50},
    "SECURE_SSL_REDIRECT": PRODUCTION,
    "SECURE_HSTS_SECONDS": PRODUCTION,
}


def documented():
    """{variable: its default as the README's table gives it}."""
    readme = (ROOT / "README.md").read_text()
    table = readme.split("## Configuration (environment variables)")[1].split("\n\n")[1]
    found = {}
    for row in table.splitlines()[2:]:
        names_cell, default_cell = row.split("|")[1:3]
        names = re.findall(r"`([A-Z][A-Z0-9_]+)`", names_cell)
        defaults = [d.strip() for d in default_cell.split(",")]
        for position, name in enumerate(names):
            found[name] = (
                defaults[position] if len(defaults) == len(names) else default_cell.strip()
            )
    return found


def another_value(name, default):
    """A value other than the default, of the kind the variable takes."""
    default = default.strip().strip("`").removesuffix("` each")
    if name.endswith("_URL"):
        return {
            "DATABASE_URL": "postgres://desk@db.example:5432/otherdesk",
            "REDIS_URL": "redis://cache.example:6379/3",
            "PUBLIC_BASE_URL": "https://desk.example",
        }[name]
    if default in ("0", "1"):
        return "1" if default == "0" else "0"
    if re.fullmatch(r"[0-9.]+", default) or name.endswith(("_SECONDS", "_LIMIT")):
        return "7"
    return "other-value"


def settings_with(monkeypatch, environment):
    """The settings module's names, run with exactly these documented variables set, and the
    gunicorn configuration's (BIND, WEB_WORKERS, TRUSTED_PROXIES)."""
    for name in documented():
        monkeypatch.delenv(name, raising=False)
    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    django = runpy.run_path(str(ROOT / "incident_manager" / "settings.py"))
    gunicorn = runpy.run_path(str(ROOT / "gunicorn.conf.py"))
    return repr(
        [(k, repr(v)) for k, v in sorted(django.items()) if k[0].isalpha() and k.isupper()]
        + [(k, repr(v)) for k, v in sorted(gunicorn.items()) if k[0].isalpha()]
    )


def test_the_readme_documents_every_variable_the_settings_read():
    read = set()
    for path in ("incident_manager/settings.py", "gunicorn.conf.py"):
        source = (ROOT / path).read_text()
        read |= set(
            re.findall(r'(?:environ\.get\(|environ\[|env_bool\(|env_list\()"(\w+)"', source)
        )
        per_channel = re.findall(r'f"(\w+)\{channel\.upper\(\)\}"', source)
        read |= {
            f"{prefix}{channel}" for prefix in per_channel for channel in ("SMS", "CALL", "EMAIL")
        }
    variables = documented()
    assert len(read) > 50 and read - set(variables) == set()
    assert variables["API_RATE"] == "`600/minute`"


# `make serve`'s own: the Makefile passes them to gunicorn.
MAKE_VARIABLES = {"BIND", "WEB_WORKERS"}


def test_make_serve_passes_its_variables_to_gunicorn():
    makefile = (ROOT / "Makefile").read_text()
    assert "--bind $${BIND:-127.0.0.1:8000}" in makefile
    assert "--workers $${WEB_WORKERS:-3}" in makefile


@pytest.mark.parametrize("name", sorted(set(documented()) - MAKE_VARIABLES))
def test_each_documented_variable_changes_the_settings(monkeypatch, name):
    needs = NEEDS.get(name, {})
    value = another_value(name, documented()[name])
    assert settings_with(monkeypatch, {**needs, name: value}) != settings_with(monkeypatch, needs)


def test_production_redirects_to_https_and_keeps_hsts_for_a_year_by_default(monkeypatch):
    monkeypatch.setenv("DJANGO_DEBUG", "0")
    monkeypatch.setenv("DJANGO_SECRET_KEY", "k" * 50)
    for name in ("SECURE_SSL_REDIRECT", "SECURE_HSTS_SECONDS", "BEHIND_TLS_PROXY"):
        monkeypatch.delenv(name, raising=False)
    read = runpy.run_path(str(ROOT / "incident_manager" / "settings.py"))
    assert (read["SECURE_SSL_REDIRECT"], read["SECURE_HSTS_SECONDS"]) == (True, 365 * 24 * 3600)
    assert read["SESSION_COOKIE_SECURE"] and read["CSRF_COOKIE_SECURE"]
    assert "SECURE_PROXY_SSL_HEADER" not in read  # X-Forwarded-Proto trusted behind a proxy only
