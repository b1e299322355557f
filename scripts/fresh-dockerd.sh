#!/usr/bin/env bash
# A second Docker daemon, started for the first time, beside the machine's own: to run the
# project's tests as on a freshly set-up machine without stopping, restarting or touching the
# main dockerd (its socket, /var/lib/docker, /var/run/docker, its containerd, docker0 and its
# iptables chains stay as they are).
#
#   scripts/fresh-dockerd.sh start     # start it with nothing in it; prints the DOCKER_HOST line
#   eval "$(scripts/fresh-dockerd.sh env)"           # then docker, the scripts and the tests
#   containers/build-images.sh python                # use it (they all honour DOCKER_HOST)
#   cargo test --test sandbox_security no_network_anywhere
#   scripts/fresh-dockerd.sh restart   # the daemon again, data and bridge kept: a warm machine
#   scripts/fresh-dockerd.sh status
#   scripts/fresh-dockerd.sh stop      # stop it and remove everything it made
#
# What makes it a first start:
#   - an empty --data-root and its own --exec-root, --pidfile and socket;
#   - its own containerd, which dockerd starts and supervises itself (as on a machine where
#     nothing else runs containerd), with state under the exec-root; should a system containerd
#     run (/run/containerd/containerd.sock), dockerd uses that one instead, so the daemon's
#     containerd namespaces are its own either way;
#   - its own bridge interface, created without an address just before the daemon starts, so the
#     daemon elects the subnet itself, exactly as with docker0 on a machine's first start (or the
#     first start after a reboot). Docker 20.10 then records no Gateway in the default bridge's
#     IPAM config although it gives the interface the subnet's first address; `restart` shows the
#     other case, a daemon started when the interface already has its address. (dockerd creates
#     only a bridge named docker0 itself, which the main daemon owns; a bridge of another name
#     must exist beforehand, and --bip would set the Gateway, which is not a first start.)
#     The subnet comes from --default-address-pool (FRESH_POOL, outside Docker's own 172.17-31
#     and 192.168 pools, so the main daemon's networks cannot collide with it).
# Where it differs from a fresh machine, and why:
#   - the bridge is FRESH_BRIDGE, not docker0 (the main daemon's); the default bridge network
#     names it in its options (com.docker.network.bridge.name), where the tests read it.
#   - --iptables=false (and so --ip-masq=false): a dockerd with iptables on starts by deleting
#     the DOCKER chains it finds (libnetwork's removeIPChains), which would cut the main
#     daemon's containers off. So this script adds the three rules its subnet needs to reach the
#     outside (`docker build` runs apt-get): two in FORWARD, one MASQUERADE, tagged with a
#     comment, and removes exactly those at `stop` (FRESH_NAT=0: none).
#   - --ip-forward=false: the host's ip_forward is left as it is (the main daemon set it).
#   - --config-file: an empty one of its own, so /etc/docker/daemon.json (the main daemon's
#     settings) is not read.
#   - --live-restore: a dockerd that has address pools and finds its default bridge network in
#     its store (every start but the first) deletes the interface named docker0, whoever owns
#     it (moby's removeDefaultBridgeInterface; live-restore is the one thing that stops it).
#     That is the main daemon's bridge, so it is also watched: should it vanish while this
#     script runs, it is put back as it was (name, MAC, address) and the script says so. With
#     live-restore, containers outlive the daemon, so `stop` removes them (and the networks,
#     whose bridges would outlive it too) through the API first.
# What it cannot stand in for: whatever uses /var/run/docker.sock itself instead of DOCKER_HOST
# (docker-compose.yml mounts it into the workers, so actors/tests/production_readme.rs refuses
# another DOCKER_HOST; actors/tests/app_image.rs and docker_tls.rs use that socket too).
#
# Environment (each has a default):
#   FRESH_NAME=devmentor-fresh        names the run folder and the data folder
#   FRESH_BRIDGE=dmfresh0             the bridge interface (at most 15 characters)
#   FRESH_POOL=10.213.0.0/16          the address pool; the bridge gets its first /24
#   FRESH_NAT=1                       add (and later remove) the outbound NAT rules
#   FRESH_RUN_DIR=/run/$FRESH_NAME    socket, pid file, exec-root
#   FRESH_DATA_DIR=/var/tmp/$FRESH_NAME   data-root, log, daemon.json
set -euo pipefail

NAME=${FRESH_NAME:-devmentor-fresh}
BRIDGE=${FRESH_BRIDGE:-dmfresh0}
POOL=${FRESH_POOL:-10.213.0.0/16}
NAT=${FRESH_NAT:-1}
RUN_DIR=${FRESH_RUN_DIR:-/run/$NAME}
DATA_DIR=${FRESH_DATA_DIR:-/var/tmp/$NAME}
SOCK=$RUN_DIR/docker.sock
PIDFILE=$RUN_DIR/dockerd.pid
EXEC_ROOT=$RUN_DIR/exec
DATA_ROOT=$DATA_DIR/data
LOG=$DATA_DIR/dockerd.log
CONFIG=$DATA_DIR/daemon.json
NAT_TAG="$NAME NAT (scripts/fresh-dockerd.sh)"
export DOCKER_HOST=unix://$SOCK

log() { printf '==> %s\n' "$*" >&2; }
die() { printf 'fresh-dockerd: error: %s\n' "$*" >&2; exit 1; }

usage() { sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed '$d; s/^# \{0,1\}//'; }

preflight() {
    [[ $(id -u) -eq 0 ]] || die "must run as root (dockerd and ip link need it)"
    local tool
    for tool in dockerd docker ip findmnt; do
        command -v "$tool" >/dev/null 2>&1 || die "$tool is missing"
    done
    ((${#BRIDGE} <= 15)) || die "FRESH_BRIDGE=$BRIDGE: an interface name has at most 15 characters"
    local d
    for d in "$RUN_DIR" "$DATA_DIR"; do
        case $d in
            /*) ;;
            *) die "$d: an absolute path is needed" ;;
        esac
        case ${d%/} in
            / | /run | /var/run | /var/tmp | /tmp | /var/lib/docker* | /run/docker* | /var/run/docker* | /run/containerd*)
                die "$d is not a folder of this script's own (it removes it at stop)" ;;
        esac
    done
}

daemon_pid() {
    local pid
    pid=$(cat "$PIDFILE" 2>/dev/null) || return 1
    [[ -n $pid && -d /proc/$pid ]] && grep -qF -- "$SOCK" "/proc/$pid/cmdline" 2>/dev/null && echo "$pid"
}

# The pool's second octets must not be routed here already (another network would be hidden).
check_pool() {
    local base=${POOL%/*}
    local prefix=${base%.*.*}
    if ip -4 route show | awk '{print $1}' | grep -q "^${prefix//./\\.}\."; then
        die "FRESH_POOL=$POOL overlaps a route of this machine ($(ip -4 route show | grep "^${prefix//./\\.}\." | head -n1)): choose another"
    fi
}

# The outbound NAT of the bridge's subnet through the default route's interface, which the
# daemon would add itself with iptables on. Every rule carries NAT_TAG; `delete` removes exactly
# the rules that carry it.
nat_rules() { # add | delete
    local op=$1 uplink table rule
    [[ $NAT == 1 ]] || return 0
    command -v iptables >/dev/null 2>&1 || { log "iptables is missing: no outbound NAT for $BRIDGE"; return 0; }
    if [[ $op == delete ]]; then
        for table in filter nat; do
            { iptables -t "$table" -S | grep -F -- "$NAT_TAG" || true; } | sed 's/^-A /-D /' | while read -r rule; do
                eval "iptables -t $table $rule"
            done
        done
        return 0
    fi
    nat_rules delete # once only, whether this is a start or a restart
    uplink=$(ip -4 route show default | awk '{for (i = 1; i < NF; i++) if ($i == "dev") { print $(i + 1); exit }}')
    [[ -n $uplink ]] || { log "no default route: no outbound NAT for $BRIDGE"; return 0; }
    local tag=(-m comment --comment "$NAT_TAG")
    iptables -t filter -I FORWARD 1 -i "$BRIDGE" -o "$uplink" "${tag[@]}" -j ACCEPT
    iptables -t filter -I FORWARD 1 -i "$uplink" -o "$BRIDGE" -m conntrack --ctstate RELATED,ESTABLISHED \
        "${tag[@]}" -j ACCEPT
    iptables -t nat -I POSTROUTING 1 -s "$POOL" -o "$uplink" "${tag[@]}" -j MASQUERADE
    log "outbound NAT for $POOL through $uplink (iptables rules tagged \"$NAT_TAG\")"
}

# The main daemon's bridge as it is now: "MAC CIDR BRD", or nothing when there is none.
main_bridge_state() {
    local mac inet
    mac=$(cat /sys/class/net/docker0/address 2>/dev/null) || return 0
    inet=$(ip -4 -o addr show dev docker0 | awk '{for (i = 1; i < NF; i++) if ($i == "inet") a = $(i + 1); else if ($i == "brd") b = $(i + 1)} END {print a, b}')
    echo "$mac $inet"
}

# Puts docker0 back as `main_bridge_state` saw it, should the fresh daemon have deleted it.
main_bridge_guard() {
    local saved=$1 mac cidr brd
    [[ -n $saved && ! -e /sys/class/net/docker0 ]] || return 0
    read -r mac cidr brd <<<"$saved"
    log "WARNING: docker0 (the main daemon's bridge) vanished; putting it back: $mac $cidr"
    ip link add name docker0 type bridge
    ip link set dev docker0 address "$mac"
    [[ -z $cidr ]] || ip addr add "$cidr" ${brd:+brd "$brd"} dev docker0
    ip link set dev docker0 up
}

start_daemon() {
    local main_bridge
    main_bridge=$(main_bridge_state)
    mkdir -p "$RUN_DIR" "$EXEC_ROOT" "$DATA_ROOT"
    [[ -f $CONFIG ]] || echo '{}' >"$CONFIG"
    log "starting dockerd: data-root $DATA_ROOT, exec-root $EXEC_ROOT, bridge $BRIDGE (log: $LOG)"
    # setsid: the daemon outlives this script and the caller's terminal.
    setsid dockerd \
        --config-file "$CONFIG" \
        --host "unix://$SOCK" \
        --pidfile "$PIDFILE" \
        --data-root "$DATA_ROOT" \
        --exec-root "$EXEC_ROOT" \
        --bridge "$BRIDGE" \
        --default-address-pool "base=$POOL,size=24" \
        --iptables=false --ip-masq=false --ip-forward=false \
        --live-restore \
        --containerd-namespace "$NAME" --containerd-plugins-namespace "$NAME-plugins" \
        >>"$LOG" 2>&1 </dev/null &
    local i
    for i in $(seq 1 120); do
        docker version --format '{{.Server.Version}}' >/dev/null 2>&1 && break
        daemon_pid >/dev/null || [[ $i -lt 20 ]] || { tail -n 30 "$LOG" >&2; die "dockerd exited (see $LOG)"; }
        sleep 0.5
    done
    docker version --format '{{.Server.Version}}' >/dev/null 2>&1 \
        || { tail -n 30 "$LOG" >&2; die "dockerd did not answer on $SOCK within 60 s (see $LOG)"; }
    sleep 1 # the bridge driver has set up by now; a deleted docker0 would show
    main_bridge_guard "$main_bridge"
    nat_rules add
    log "docker $(docker version --format '{{.Server.Version}}') on $SOCK, pid $(daemon_pid)"
    log "bridge network: $(docker network inspect bridge --format '{{json .IPAM.Config}}')"
    log "$BRIDGE: $(ip -4 -o addr show dev "$BRIDGE" | awk '{print $4}' | paste -sd' ')"
}

stop_daemon() {
    local pid i
    pid=$(daemon_pid) || return 0
    if [[ ${1:-} == --empty ]]; then
        # live-restore keeps containers running without the daemon: remove them while it runs,
        # and the networks, whose bridge interfaces would stay behind.
        docker ps -aq | xargs -r docker rm -f >/dev/null || true
        docker network prune -f >/dev/null || true
    fi
    log "stopping dockerd (pid $pid)"
    kill -TERM "$pid"
    for i in $(seq 1 90); do
        [[ -d /proc/$pid ]] || break
        sleep 0.5
    done
    if [[ -d /proc/$pid ]]; then
        log "dockerd $pid did not stop within 45 s: killing it"
        kill -KILL "$pid" || true
        sleep 1
    fi
}

# Processes the daemon started that outlived it (its containerd, the shims), found by
# name and by our folders in their command line, and ended by their ids.
end_leftovers() {
    local p cmd
    for p in /proc/[0-9]*; do
        case $(cat "$p/comm" 2>/dev/null) in
            containerd | containerd-shim* | runc) ;;
            *) continue ;;
        esac
        cmd=$(tr '\0' ' ' <"$p/cmdline" 2>/dev/null) || continue
        if [[ $cmd == *"$RUN_DIR/"* || $cmd == *"$DATA_DIR/"* ]]; then
            log "ending leftover ${p#/proc/}: ${cmd:0:120}"
            kill -TERM "${p#/proc/}" 2>/dev/null || true
        fi
    done
}

remove_everything() {
    local m
    local -a mounts=()
    mapfile -t mounts < <(findmnt -rn -o TARGET | grep -E "^($RUN_DIR|$DATA_DIR)(/|$)" | sort -r || true)
    for m in "${mounts[@]}"; do
        umount -l "$m" 2>/dev/null || true
    done
    rm -rf --one-file-system "$RUN_DIR" "$DATA_DIR"
    if ip link show dev "$BRIDGE" >/dev/null 2>&1; then
        ip link delete dev "$BRIDGE" type bridge
    fi
    # Bridges of user networks a crashed run left: the ones with an address from our pool.
    local prefix=${POOL%/*} dev
    prefix=${prefix%.*.*}.
    for dev in $(ip -4 -o addr show | awk -v p="$prefix" 'index($4, p) == 1 && $2 ~ /^br-/ {print $2}' | sort -u); do
        log "removing $dev (a network of a previous run)"
        ip link delete dev "$dev" type bridge || true
    done
    nat_rules delete
}

cmd_start() {
    if pid=$(daemon_pid); then
        die "already running (pid $pid); \`$0 stop\` first for a fresh start"
    fi
    # Whatever a previous run left goes first: the point is an empty start.
    if [[ -e $RUN_DIR || -e $DATA_DIR ]] || ip link show dev "$BRIDGE" >/dev/null 2>&1; then
        log "removing what a previous run left"
        end_leftovers
        remove_everything
    fi
    check_pool
    log "creating bridge $BRIDGE with no address"
    ip link add name "$BRIDGE" type bridge
    start_daemon
    cmd_env
}

cmd_restart() {
    daemon_pid >/dev/null || die "not running: \`$0 start\` first"
    stop_daemon
    start_daemon
    cmd_env
}

cmd_stop() {
    stop_daemon --empty
    end_leftovers
    remove_everything
    log "stopped; $RUN_DIR, $DATA_DIR and $BRIDGE removed"
}

cmd_status() {
    if pid=$(daemon_pid); then
        echo "running: pid $pid, DOCKER_HOST=$DOCKER_HOST"
        docker network inspect bridge --format 'bridge network: {{json .IPAM.Config}} {{json .Options}}'
        ip -4 -o addr show dev "$BRIDGE"
    else
        echo "not running"
        return 1
    fi
}

cmd_env() { echo "export DOCKER_HOST=$DOCKER_HOST"; }

case ${1:-} in
    start) preflight; cmd_start ;;
    restart) preflight; cmd_restart ;;
    stop) preflight; cmd_stop ;;
    status) cmd_status ;;
    env) cmd_env ;;
    -h | --help | help) usage ;;
    *) usage >&2; exit 2 ;;
esac
