#!/usr/bin/env bash
# Create a RabbitMQ virtual host for guest if it is missing: `scripts/rabbitmq-vhost.sh NAME`.
# A vhost of its own keeps a run's quorum queue apart from every other user of the broker.
set -euo pipefail
vhost=${1:?usage: rabbitmq-vhost.sh NAME}
if ! command -v rabbitmqctl >/dev/null 2>&1 && [[ ! -x /usr/sbin/rabbitmqctl ]]; then
    echo "rabbitmq-vhost: rabbitmqctl is not installed (apt-get install rabbitmq-server)" >&2
    exit 1
fi
PATH=$PATH:/usr/sbin
rabbitmqctl -q list_vhosts | grep -qx -- "$vhost" || rabbitmqctl -q add_vhost "$vhost"
rabbitmqctl -q set_permissions -p "$vhost" guest ".*" ".*" ".*"
