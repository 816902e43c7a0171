#!/usr/bin/env bash
# Procfile `demo`: once a Celery worker answers, place a batch of demo orders so the console
# has content on a fresh database (`sagaops_demo --if-empty` does nothing when sagas exist).
#
# honcho stops every process as soon as one exits, so after its work this script stays
# alive (`sleep infinity`) until honcho stops it with the others. Failures here are reported
# in one line and never take the web, worker or beat processes down.
#
# Knobs: SAGAOPS_DEMO_ORDERS (default 20), SAGAOPS_DEMO_WAIT seconds to wait for a worker
# (default 120), SAGAOPS_URL (printed at the end; default http://127.0.0.1:8000).
set -uo pipefail
cd "$(dirname "$0")/.."

orders=${SAGAOPS_DEMO_ORDERS:-20}
wait_for=${SAGAOPS_DEMO_WAIT:-120}
url=${SAGAOPS_URL:-http://127.0.0.1:8000}

up=0
deadline=$((SECONDS + wait_for))
while ((SECONDS < deadline)); do
    if celery -A project inspect ping --timeout 2 >/dev/null 2>&1; then
        up=1
        break
    fi
    sleep 1
done

if ((up)); then
    if python manage.py sagaops_demo --orders "$orders" --if-empty; then
        echo "demo: done"
    else
        echo "demo: 'manage.py sagaops_demo --orders $orders --if-empty' failed (rc=$?); the other processes keep running"
    fi
else
    echo "demo: no Celery worker answered within ${wait_for}s; no demo orders placed"
fi
echo "sagaops: console $url/admin/  API $url/api/"

exec sleep infinity
