#!/usr/bin/env bash
# Fuzz the API from its own OpenAPI schema with schemathesis (`make fuzz`; CI does not run it).
#
# A fresh SQLite desk with the demo data is served by gunicorn with DEBUG off, as `make serve`
# would; schemathesis runs every check ("all": no 500, responses that match the schema, status
# codes the schema documents, …) once with a token of each role. The rate limits are raised for
# the run (one client sends thousands of requests), nothing else changes.
#
#   bash bench/fuzz.sh [max examples per operation, default 50]
set -uo pipefail
cd "$(dirname "$0")/.."
examples="${1:-50}"
work="$(mktemp -d)"
port=8765
export DATABASE_URL="sqlite:///$work/db.sqlite3" PUBLIC_BASE_URL="http://127.0.0.1:$port"
export API_RATE=1000000/minute API_TOKEN_FAILURE_LIMIT=1000000
.venv/bin/python manage.py migrate --noinput -v0
.venv/bin/python manage.py seed_demo >/dev/null
export STATIC_ROOT="$work/static" DJANGO_DEBUG=0 ALLOWED_HOSTS=127.0.0.1 SECURE_SSL_REDIRECT=0
export DJANGO_SECRET_KEY="fuzz-$(head -c 32 /dev/urandom | base64)"
.venv/bin/python manage.py collectstatic --noinput -v0
.venv/bin/gunicorn incident_manager.wsgi --bind "127.0.0.1:$port" --workers 2 --timeout 30 \
  >"$work/server.log" 2>&1 &
server=$!
trap 'kill $server 2>/dev/null; rm -rf "$work"' EXIT
for _ in $(seq 60); do curl -s -o /dev/null "http://127.0.0.1:$port/login/" && break; sleep 0.5; done
status=0
for user in sam mia dirk; do
  token=$(DJANGO_DEBUG=1 .venv/bin/python manage.py drf_create_token "$user" | awk '{print $3}')
  echo "== $user"
  .venv/bin/st run "http://127.0.0.1:$port/api/schema/" \
    --header "Authorization: Token $token" --header "Accept-Language: en" \
    --checks all --exclude-checks positive_data_acceptance --max-examples "$examples" --request-timeout 30 \
    --report junit --report-dir "bench/fuzz-report/$user" || status=1
done
cp "$work/server.log" bench/fuzz-report/server.log
echo "== server errors logged: $(grep -c "Internal Server Error" bench/fuzz-report/server.log)"
exit $status
