#!/usr/bin/env bash
# Browser tests drive Debian's chromium. Install it when it is missing and we are root with
# apt-get; otherwise say so in one line and carry on (those tests skip with a reason).
set -uo pipefail

chromium=${CHROMIUM:-/usr/bin/chromium}
[[ -x $chromium ]] && exit 0

if [[ $(id -u) -ne 0 ]] || ! command -v apt-get >/dev/null 2>&1; then
    echo "chromium: $chromium is missing and apt-get cannot run as root here; browser tests will be skipped"
    exit 0
fi

log=${TMPDIR:-/tmp}/sagaops-apt-chromium.log
echo "chromium: $chromium is missing; installing Debian's chromium with apt-get (log: $log)"
export DEBIAN_FRONTEND=noninteractive
if apt-get update -qq >"$log" 2>&1 && apt-get install -y -qq chromium >>"$log" 2>&1; then
    echo "chromium: installed"
else
    echo "chromium: apt-get install failed (see $log); browser tests will be skipped"
fi
exit 0
