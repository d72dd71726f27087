#!/usr/bin/env bash
# The reference deployment's network on one machine: one Linux network namespace per host,
# each joined by a veth pair to one bridge in the machine's own namespace, on a subnet
# nothing else here uses. `net.sh up` makes it (after removing any leftover of a crashed
# run), `net.sh down` removes it; both are safe to run again.
#
#   bridge omsc-br0  10.231.0.1/24   the machine itself: the test driver, the webhook receiver
#   omsc-lb          10.231.0.5      HAProxy
#   omsc-db          10.231.0.10     PostgreSQL primary, Redis, PgBouncer
#   omsc-replica     10.231.0.11     PostgreSQL streaming replica
#   omsc-app1/2      10.231.0.21/22  gunicorn
#   omsc-worker1/2   10.231.0.31/32  Celery workers
#   omsc-beat        10.231.0.41     Celery beat
set -euo pipefail

BRIDGE=omsc-br0
SUBNET_PREFIX=10.231.0
HOSTS=(lb:5 db:10 replica:11 app1:21 app2:22 worker1:31 worker2:32 beat:41)

down() {
  for entry in "${HOSTS[@]}"; do
    name=${entry%%:*}
    ns=omsc-$name
    if ip netns list | grep -qw "$ns"; then
      # Whatever still runs in a host's namespace was started by this harness: stop it,
      # or the namespace outlives its deletion while a process holds it.
      pids=$(ip netns pids "$ns" || true)
      if [ -n "$pids" ]; then
        kill -9 $pids 2>/dev/null || true
      fi
      ip netns del "$ns"
    fi
    # The machine's end of a veth pair goes with its peer; a half-made pair may remain.
    ip link del "v$ns" 2>/dev/null || true
  done
  ip link del "$BRIDGE" 2>/dev/null || true
}

up() {
  down
  ip link add "$BRIDGE" type bridge
  ip addr add "$SUBNET_PREFIX.1/24" dev "$BRIDGE"
  ip link set "$BRIDGE" up
  for entry in "${HOSTS[@]}"; do
    name=${entry%%:*}
    address=$SUBNET_PREFIX.${entry##*:}
    ns=omsc-$name
    ip netns add "$ns"
    ip link add "v$ns" type veth peer name eth0 netns "$ns"
    ip link set "v$ns" master "$BRIDGE" up
    ip -n "$ns" addr add "$address/24" dev eth0
    ip -n "$ns" link set lo up
    ip -n "$ns" link set eth0 up
    ip -n "$ns" route add default via "$SUBNET_PREFIX.1"
  done
}

case "${1:-}" in
  up) up ;;
  down) down ;;
  *) echo "usage: $0 up|down" >&2; exit 2 ;;
esac
