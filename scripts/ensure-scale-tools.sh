#!/usr/bin/env bash
# The scale-out tests start redis-server (a cluster), rabbitmq-server (a node to restart) and
# socat (relays into network namespaces). Install what is missing when we are root with apt-get;
# otherwise say so in one line and carry on (those tests skip with a reason).
set -uo pipefail

declare -A package=([redis-server]=redis-server [redis-cli]=redis-tools [rabbitmq-server]=rabbitmq-server
                    [socat]=socat [ip]=iproute2)
missing=()
for tool in "${!package[@]}"; do
    command -v "$tool" >/dev/null 2>&1 || [[ -x /usr/sbin/$tool ]] || missing+=("${package[$tool]}")
done
[[ ${#missing[@]} -eq 0 ]] && exit 0

if [[ $(id -u) -ne 0 ]] || ! command -v apt-get >/dev/null 2>&1; then
    echo "scale tools: ${missing[*]} missing and apt-get cannot run as root here; their tests will be skipped"
    exit 0
fi

log=${TMPDIR:-/tmp}/sagaops-apt-scale.log
echo "scale tools: installing ${missing[*]} with apt-get (log: $log)"
export DEBIAN_FRONTEND=noninteractive
if apt-get update -qq >"$log" 2>&1 && apt-get install -y -qq "${missing[@]}" >>"$log" 2>&1; then
    echo "scale tools: installed"
else
    echo "scale tools: apt-get install failed (see $log); their tests will be skipped"
fi
exit 0
