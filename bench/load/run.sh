#!/bin/sh
# The load test of issue 7 (docs/performance.md, section Load), from the repository root:
#   bench/load/run.sh            (or: make load)
# 1. a fresh PostgreSQL database coopdesa_load with the register, 3,000 proposals of the
#    province and the accounts and proposals of the workload (bench/load/setup_data.py);
# 2. gunicorn with gunicorn.conf.py (default workers) on 127.0.0.1:8100, production mode;
# 3. locust, a separate process on loopback: a 20 s warm-up that logs the 50 accounts in,
#    then 50 users, already logged in, for 60 s (bench/load/locustfile.py);
# 4. bench/load/check.py: every acknowledged write in the database exactly once, no 5xx;
#    then the audit chain is verified;
# 5. wrk on the 50-row proposal list with a session cookie, gunicorn with 2 workers.
# Everything it starts is stopped, and the databases dropped, at the end (LOAD_KEEP=1 keeps
# them; LOAD_SETUP_ONLY=1 only builds coopdesa_load_template and keeps it, LOAD_REUSE=1
# then starts each run from a copy of it; LOAD_WRK_ONLY=1 skips the locust part). Needs
# locust (pip install -e '.[load]') and wrk (apt-get install wrk).
set -eu

DB=${LOAD_DB:-coopdesa_load}
PORT=${LOAD_PORT:-8100}
OUT=${LOAD_OUT:-/tmp/coopdesa-load}
DURATION=${LOAD_DURATION:-60s}
WARMUP=${LOAD_WARMUP:-20s}
WRK_DURATION=${LOAD_WRK_DURATION:-30s}
BIN=.venv/bin
PG="-h 127.0.0.1 -U postgres"

mkdir -p "$OUT"
export FLASK_APP=wsgi:app
export COOPDESA_ENV=production
export SECRET_KEY="load-test-only-$(python3 -c 'import secrets; print(secrets.token_hex(24))')"
export DATABASE_URL="postgresql://postgres@127.0.0.1:5432/$DB"
export COOPDESA_REDIS_URL=${LOAD_REDIS_URL:-redis://127.0.0.1:6379/3}
# Plain HTTP on loopback: the session cookie must travel without TLS here.
export COOPDESA_SECURE_COOKIES=0
export COOPDESA_INSTANCE_PATH="$OUT/instance"
export COOPDESA_WEB_BIND="127.0.0.1:$PORT"
export COOPDESA_WEB_CONTROL_SOCKET=
URL="http://127.0.0.1:$PORT"

GUNICORN_PID=
stop_gunicorn() {
    if [ -n "$GUNICORN_PID" ]; then
        kill -TERM "$GUNICORN_PID" 2>/dev/null || true
        wait "$GUNICORN_PID" 2>/dev/null || true
        GUNICORN_PID=
    fi
}
cleanup() {
    stop_gunicorn
    if [ -z "${LOAD_KEEP:-}" ]; then
        dropdb $PG --if-exists "$DB"
        dropdb $PG --if-exists "${DB}_template"
    fi
}
trap cleanup EXIT INT TERM

start_gunicorn() {  # $1: log file; COOPDESA_WEB_WORKERS as set by the caller
    $BIN/gunicorn -c gunicorn.conf.py >"$1" 2>&1 &
    GUNICORN_PID=$!
    for _ in $(seq 1 60); do
        curl -sf "$URL/healthz" >/dev/null 2>&1 && return 0
        sleep 1
    done
    echo "gunicorn did not answer on $URL" >&2
    exit 1
}

if [ -n "${LOAD_SETUP_ONLY:-}" ] || [ -z "${LOAD_REUSE:-}" ]; then
    echo "== database $DB"
    dropdb $PG --if-exists "$DB"
    createdb $PG "$DB"
    $BIN/flask coopdesa init --no-demo
    $BIN/python -m bench.load.setup_data "$OUT/data.json"
    if [ -n "${LOAD_SETUP_ONLY:-}" ]; then
        # Keep a pristine copy: LOAD_REUSE=1 runs start from it, not from a used database.
        dropdb $PG --if-exists "${DB}_template"
        createdb $PG -T "$DB" "${DB}_template"
        LOAD_KEEP=1
        exit 0
    fi
else
    echo "== database $DB from ${DB}_template (LOAD_REUSE)"
    dropdb $PG --if-exists "$DB"
    createdb $PG -T "${DB}_template" "$DB"
fi
# With the app's own client: redis-cli (Debian's redis-tools) need not be installed.
$BIN/python -c 'import os, redis; redis.Redis.from_url(os.environ["COOPDESA_REDIS_URL"]).flushdb()'

CHECK=0
if [ -z "${LOAD_WRK_ONLY:-}" ]; then
    echo "== mixed workload: gunicorn (default workers), locust 50 users for $DURATION"
    unset COOPDESA_WEB_WORKERS || true
    start_gunicorn "$OUT/gunicorn-mixed.log"
    # Warm-up, not measured: each gunicorn worker imports the app on its first requests and
    # starts its PDF render processes on its first PDF (seconds each on 2 cores). Its writes
    # are checked with the others.
    # The warm-up logs every account in (Argon2: about 240 ms of CPU each) and keeps the
    # session cookies; the measured run starts with them, as users already at work.
    rm -f "$OUT/sessions.json"
    LOAD_DATA="$OUT/data.json" LOAD_RESULTS="$OUT/acks-warmup.json" LOAD_SESSIONS="$OUT/sessions.json" \
        $BIN/locust -f bench/load/locustfile.py --headless -u 50 -r 10 -t "$WARMUP" \
        --stop-timeout 10 --host "$URL" --only-summary >"$OUT/locust-warmup.log" 2>&1 || true
    LOAD_DATA="$OUT/data.json" LOAD_RESULTS="$OUT/acks.json" LOAD_SESSIONS="$OUT/sessions.json" \
        $BIN/locust -f bench/load/locustfile.py --headless -u 50 -r 10 -t "$DURATION" \
        --stop-timeout 10 --host "$URL" --csv "$OUT/locust" --only-summary \
        >"$OUT/locust.log" 2>&1 || echo "(locust exit status $?: see failures below)"
    tail -n 45 "$OUT/locust.log"
    stop_gunicorn
    echo "== check against the database"
    $BIN/python -m bench.load.check "$OUT/data.json" "$OUT/acks-warmup.json" "$OUT/acks.json" \
        || CHECK=$?
    $BIN/flask coopdesa audit verify 2>/dev/null || CHECK=1
    grep -c '" 5[0-9][0-9] ' "$OUT/gunicorn-mixed.log" | sed 's/^/5xx lines in the access log: /' || true

fi

echo "== list page, 50 rows: gunicorn with 2 workers, wrk $WRK_DURATION"
COOPDESA_WEB_WORKERS=2 start_gunicorn "$OUT/gunicorn-wrk.log"
COOKIES="$OUT/cookies.txt"
rm -f "$COOKIES"
USER=$($BIN/python -c "import json,sys; print(json.load(open(sys.argv[1]))['admin'])" "$OUT/data.json")
PASSWORD=$($BIN/python -c "import json,sys; print(json.load(open(sys.argv[1]))['password'])" "$OUT/data.json")
TOKEN=$(curl -s -c "$COOKIES" "$URL/masuk" | sed -n 's/.*name="csrf_token"[^>]*value="\([^"]*\)".*/\1/p' | head -n 1)
curl -s -b "$COOKIES" -c "$COOKIES" -o /dev/null -w 'login: %{http_code}\n' \
    --data-urlencode "csrf_token=$TOKEN" --data-urlencode "username=$USER" \
    --data-urlencode "password=$PASSWORD" "$URL/masuk"
# The page after the login shows (and so consumes) its welcome message, as in a browser;
# a session cookie still carrying it would render the message again on every request.
curl -s -b "$COOKIES" -c "$COOKIES" -o /dev/null "$URL/"
SESSION=$(awk '$6 == "coopdesa_session" {print $7}' "$COOKIES")
ROWS=$(curl -s -H "Cookie: coopdesa_session=$SESSION" "$URL/kerja-sama/" | grep -o 'href="/kerja-sama/[0-9]*"' | sort -u | wc -l)
echo "list page as $USER: $ROWS proposals linked"
# CPU time of the two workers (clock ticks of /proc/PID/stat), so that the cost of a
# request is known even when other processes share the cores.
worker_ticks() {  # utime + stime: fields 14 and 15, counted after the ")" closing the name
    for pid in $(pgrep -P "$GUNICORN_PID"); do sed 's/.*) //' "/proc/$pid/stat"; done \
        | awk '{ticks += $12 + $13} END {print ticks + 0}'
}
BEFORE=$(worker_ticks)
wrk -t 2 -c 16 -d "$WRK_DURATION" --latency -H "Cookie: coopdesa_session=$SESSION" \
    "$URL/kerja-sama/" | tee "$OUT/wrk.txt"
AFTER=$(worker_ticks)
REQUESTS=$(awk '/requests in/ {print $1}' "$OUT/wrk.txt")
echo "gunicorn workers' CPU: $(( (AFTER - BEFORE) * 1000 / $(getconf CLK_TCK) )) ms for $REQUESTS requests" \
    "= $(( (AFTER - BEFORE) * 1000 * 1000 / $(getconf CLK_TCK) / REQUESTS )) us per request"
stop_gunicorn
exit $CHECK
