#!/usr/bin/env bash
# The clock across a PostgreSQL restart: a running `manage.py clock` loses its connection, logs
# "database error" and retries every second; once the server is back, a step falling due fires
# on time. Restarts the local PostgreSQL server (pg_ctlcluster): run it on a development machine.
#
#   bash bench/db_restart.sh        (uses a fresh database restart_test)
#
# Prints how long after its due time the step fired, the clock's exit code after SIGTERM and the
# number of database errors it logged while the server was down.
cd "$(dirname "$0")/.."
psql -q -h 127.0.0.1 -U postgres -c "DROP DATABASE IF EXISTS restart_test" -c "CREATE DATABASE restart_test" 2>/dev/null
DATABASE_URL=postgres://postgres@127.0.0.1:5432/restart_test .venv/bin/python manage.py migrate -v0
DATABASE_URL=postgres://postgres@127.0.0.1:5432/restart_test .venv/bin/python manage.py seed_demo >/dev/null 2>&1
cd "$(dirname "$0")/.."
export DATABASE_URL=postgres://postgres@127.0.0.1:5432/restart_test SMS_BACKEND=filebased VOICE_BACKEND=filebased SMS_FILE_PATH=/tmp/rs_sms VOICE_FILE_PATH=/tmp/rs_calls EMAIL_BACKEND=django.core.mail.backends.filebased.EmailBackend EMAIL_FILE_PATH=/tmp/rs_email
rm -rf /tmp/rs_sms; mkdir -p /tmp/rs_sms
.venv/bin/python manage.py clock > /tmp/rs_clock.log 2>&1 &
CLOCK=$!
sleep 3
.venv/bin/python manage.py shell -c "from notifications.models import Firing; from django.utils import timezone; Firing.objects.filter(fired_at=None).update(due_at=timezone.now()+timezone.timedelta(days=30))"
sleep 1
echo "restart PG at $(date +%T.%N)"
pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -1)" main restart
echo "PG back at $(date +%T.%N)"
.venv/bin/python - <<'PY'
import os, django, time
os.environ["DJANGO_SETTINGS_MODULE"]="incident_manager.settings"
import sys; sys.path.insert(0,".")
django.setup()
from django.utils import timezone
from notifications.models import Firing
from accounts.models import User
from incidents import workflow
incident = workflow.log_incident(User.objects.get(username="sam"), title="Restart", description="d")
f = Firing.objects.filter(incident=incident, step__position=2).first()
due = timezone.now()
Firing.objects.filter(pk=f.pk).update(due_at=due)
start = time.monotonic()
while time.monotonic() - start < 20:
    f.refresh_from_db()
    if f.fired_at: break
    time.sleep(0.1)
print("due -> fired after the restart:", (f.fired_at - due).total_seconds() if f.fired_at else "NOT FIRED")
PY
kill -TERM $CLOCK; wait $CLOCK; echo "clock exit $?"
grep -c "database error" /tmp/rs_clock.log || true
