# One command runs the product, one runs the tests. Both install what they need first.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 8000

.PHONY: run serve test lint format bench mutate mutate-all fuzz clean

# Bytecode is written even where the environment says not to (PYTHONDONTWRITEBYTECODE): the
# packages are installed without it (--no-compile below), and the test workers reuse the test
# modules the first process compiled and rewrote (3 s each).
export PYTHONDONTWRITEBYTECODE =

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

# --no-compile: pip would compile every module of every package (16 of its 30 s here); Python
# compiles the modules a process imports, once, when it first imports them.
$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet --no-compile -e ".[dev]"
	touch $@

run: export PUBLIC_BASE_URL ?= http://127.0.0.1:$(PORT)
run: $(VENV)/.installed
	$(BIN)/python manage.py migrate --noinput
	$(BIN)/python manage.py createcachetable
	$(BIN)/python manage.py seed_demo
	@echo "Breach desk: http://127.0.0.1:$(PORT)/   (Ctrl-C stops the web server, the clock and the django-q2 cluster)"
	@trap 'trap - INT TERM EXIT; kill $$cluster 2>/dev/null; wait $$cluster; kill 0' INT TERM EXIT; \
	  setsid $(BIN)/python manage.py qcluster & cluster=$$!; \
	  $(BIN)/python manage.py clock & \
	  $(BIN)/python manage.py runserver 127.0.0.1:$(PORT)

# The django-q2 cluster runs in a session of its own (setsid) and is stopped by its main process
# alone: a SIGTERM to the whole group also reached its workers and pusher, and the cluster then
# waited over a minute for children that were already gone.

# Production: gunicorn, the clock and the django-q2 cluster, static files by WhiteNoise, no demo data.
# Needs DJANGO_SECRET_KEY, ALLOWED_HOSTS and DATABASE_URL (see the README); behind TLS.
serve: export DJANGO_DEBUG = 0
serve: $(VENV)/.installed
	$(BIN)/python manage.py check --deploy --fail-level WARNING
	$(BIN)/python manage.py migrate --noinput
	$(BIN)/python manage.py createcachetable
	$(BIN)/python manage.py collectstatic --noinput --verbosity 0
	@trap 'trap - INT TERM EXIT; kill $$cluster 2>/dev/null; wait $$cluster; kill 0' INT TERM EXIT; \
	  setsid $(BIN)/python manage.py qcluster & cluster=$$!; \
	  $(BIN)/python manage.py clock & \
	  $(BIN)/gunicorn incident_manager.wsgi --bind $${BIND:-127.0.0.1:8000} \
	    --workers $${WEB_WORKERS:-3} --timeout 30 --access-logfile -

# One pytest worker per core (pytest-xdist), each on its own test database; TEST_WORKERS=0 runs
# the suite in one process. Not --dist worksteal: a stolen transactional test can run before a
# worker's own database tests and flush the rows the migrations seeded (pytest-django orders
# transactional tests last; --dist load keeps that order on each worker). The browser tests are
# transactional: each worker runs its share of them last, in a Chromium of its own.
# --maxschedchunk 1: a worker is given the next test when it is nearly out of them, never a
# chunk. In chunks, one worker took all eight browser tests (37 s) while the other had finished.
TEST_WORKERS ?= auto
# On SQLite the test databases are made from the models and seeded by the migrations' data
# steps (tests/conftest.py: 3 s a worker instead of 9 s of 110 migrations); on PostgreSQL the
# migrations themselves run, so every one of them is tested there.
NO_MIGRATIONS := $(if $(filter postgres%,$(DATABASE_URL)),,--no-migrations)
test: $(VENV)/.installed
	$(BIN)/pytest --numprocesses $(TEST_WORKERS) --dist load --maxschedchunk 1 $(NO_MIGRATIONS)

lint: $(VENV)/.installed
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(VENV)/.installed
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

bench: $(VENV)/.installed
	$(BIN)/python bench/dashboard.py
	$(BIN)/python bench/escalation.py
	$(BIN)/python bench/documents.py

# Fuzz the API from its OpenAPI schema with schemathesis against a served desk (not in CI).
fuzz: $(VENV)/.installed
	$(BIN)/pip install --quiet -e ".[fuzz]"
	bash bench/fuzz.sh $(EXAMPLES)

# Plant bugs in the core modules ([tool.mutmut] in pyproject.toml) and see which the tests catch.
# MUTANTS='incidents.deadlines*' narrows it; results are cached in mutants/ between runs.
# Each run copies a test database migrated once here (tests/conftest.py), instead of migrating.
MUTATE_DB := $(abspath mutants-template.sqlite3)
mutate: $(VENV)/.installed
	rm -f $(MUTATE_DB) $(MUTATE_DB).new*
	DATABASE_URL=sqlite:///$(MUTATE_DB).new $(BIN)/python manage.py migrate --settings tests.settings -v0
	$(BIN)/python -c "import sqlite3; sqlite3.connect('$(MUTATE_DB).new').execute(\"VACUUM INTO '$(MUTATE_DB)'\")"
	rm -f $(MUTATE_DB).new*
	TEST_DATABASE_TEMPLATE=$(MUTATE_DB) $(BIN)/mutmut run --max-children 2 $(MUTANTS)
	$(BIN)/python bench/mutation.py --survivors

# The whole application (bench/mutants.py): every module but the migrations, constants, class
# bodies, decorators, views and settings included, on a fixed sample of its mutants (--rate per
# mille). Coverage says which tests reach each line (once), then each mutant runs those tests.
# With DATABASE_URL=postgres://… it runs what SQLite left alive and every mutant of the code only
# PostgreSQL runs. Results are cached in mutants-whole/ by the mutated file's text.
mutate-all: $(VENV)/.installed
	$(BIN)/python bench/mutants.py coverage
	$(BIN)/python bench/mutants.py run --survivors
	$(BIN)/python bench/mutants.py score --survivors

clean:
	rm -rf $(VENV) db.sqlite3 mutants mutants-template.sqlite3 mutants-whole
