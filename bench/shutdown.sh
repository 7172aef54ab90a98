#!/bin/bash
# How long `qcluster` (or `clock`) takes to stop on SIGTERM while the SMS provider hangs.
#
#     bash bench/shutdown.sh [qcluster|clock]   (TWILIO_TIMEOUT_SECONDS=3 bash bench/shutdown.sh)
#
# A fresh SQLite database, two people, Twilio behind a local proxy that accepts connections and
# never answers (HTTPS_PROXY), a real cluster; an incident is logged, its first alert hangs in
# the Twilio call, and the cluster gets SIGTERM. Prints the seconds until it exited and what
# became of the messages.
set -e
cd "$(dirname "$0")/.."
PROCESS=${1:-qcluster}
W=$(mktemp -d)
python3 - <<'PY' &
import socket, time
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", 18899)); s.listen(50)
conns = []
while True:
    c, _ = s.accept(); conns.append(c)  # never answer
PY
PROXY=$!
export DATABASE_URL=sqlite:///$W/db.sqlite3 SMS_BACKEND=twilio VOICE_BACKEND=twilio \
  TWILIO_ACCOUNT_SID=AC00000000000000000000000000000000 TWILIO_AUTH_TOKEN=x TWILIO_FROM_NUMBER=+3225550100 \
  HTTPS_PROXY=http://127.0.0.1:18899 TWILIO_TIMEOUT_SECONDS=${TWILIO_TIMEOUT_SECONDS:-3} LOG_LEVEL=WARNING
.venv/bin/python manage.py migrate -v0
.venv/bin/python manage.py adduser sec --role security --email s@x.be --phone 0471000001 --password 'a-long-demo-pass-1' >/dev/null
.venv/bin/python manage.py adduser man --role manager --email m@x.be --phone 0471000002 --password 'a-long-demo-pass-2' >/dev/null
.venv/bin/python manage.py "$PROCESS" >/dev/null 2>&1 &
CLUSTER=$!
sleep 4
.venv/bin/python manage.py shell -c "
from accounts.models import User; from incidents import workflow
workflow.log_incident(User.objects.get(username='sec'), title='hang', description='d')" >/dev/null 2>&1
sleep 3
START=$(date +%s.%N); kill -TERM $CLUSTER
while kill -0 $CLUSTER 2>/dev/null; do sleep 0.2; done
END=$(date +%s.%N)
python3 -c "print('$PROCESS exited', round($END - $START, 1), 's after SIGTERM, with TWILIO_TIMEOUT_SECONDS=$TWILIO_TIMEOUT_SECONDS')"
.venv/bin/python manage.py shell -c "
from notifications.models import Message
print(sorted((m.channel, m.status, m.error[:50]) for m in Message.objects.all()))" 2>/dev/null | tail -1
kill $PROXY
rm -rf "$W"
