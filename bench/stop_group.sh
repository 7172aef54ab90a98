#!/usr/bin/env bash
# How long `make run` or `make serve` takes to stop when its process group gets SIGTERM
# (what a service manager or a container runtime sends): web server, clock and django-q2
# cluster all gone. Target: under 5 s.
#
#   bash bench/stop_group.sh [run|serve]
set -euo pipefail
cd "$(dirname "$0")/.."
target="${1:-run}"
work="$(mktemp -d)"
export DATABASE_URL="sqlite:///$work/db.sqlite3" PORT=8123 BIND=127.0.0.1:8123
if [ "$target" = serve ]; then
  export DJANGO_SECRET_KEY="bench-$(head -c 32 /dev/urandom | base64)" ALLOWED_HOSTS=127.0.0.1
  export STATIC_ROOT="$work/static" WEB_WORKERS=2
fi
setsid make "$target" >"$work/log" 2>&1 &
leader=$!
for _ in $(seq 120); do
  curl -s -o /dev/null "http://127.0.0.1:8123/login/" && break
  sleep 0.5
done
sleep 3  # the cluster's workers and pusher are up
group=$(ps -o pgid= "$leader" | tr -d ' ') || { echo "make $target did not start:"; cat "$work/log"; exit 1; }
started=$(date +%s.%N)
kill -TERM -- "-$group"
for _ in $(seq 600); do
  pgrep -g "$group" >/dev/null || pgrep -f "manage.py qcluster" >/dev/null || break
  sleep 0.05
done
stopped=$(date +%s.%N)
left=$(pgrep -af "manage.py (qcluster|clock|runserver)|gunicorn incident_manager" || true)
printf 'make %s: everything stopped %.1f s after SIGTERM to its process group%s\n' \
  "$target" "$(echo "$stopped - $started" | bc)" "${left:+; still running: $left}"
rm -rf "$work"
