#!/usr/bin/env bash
# Installs (when missing) and starts what Dev-Mentor needs on Debian 12, as root:
# PostgreSQL, Redis and the Docker engine, plus debootstrap for the offline image builder and
# headless Chromium (with chromedriver) for the playground's browser test.
# Idempotent: a running service is left alone. Used by `make test` and `make run`.
set -euo pipefail

log() { printf '==> %s\n' "$*"; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }

STATE_DIR=${DEVMENTOR_STATE_DIR:-/var/lib/devmentor-dev}
mkdir -p "$STATE_DIR"

need_root() {
  [ "$(id -u)" = 0 ] || die "installing and starting services needs root (run as root, or start PostgreSQL, Redis and Docker yourself and set SKIP_SERVICES=1)"
}

if [ "${SKIP_SERVICES:-0}" = 1 ]; then
  log "SKIP_SERVICES=1: using the services already running"
  exit 0
fi

missing=()
command -v pg_ctlcluster >/dev/null 2>&1 || missing+=(postgresql)
command -v redis-server >/dev/null 2>&1 || missing+=(redis-server)
command -v dockerd >/dev/null 2>&1 || missing+=(docker.io)
command -v debootstrap >/dev/null 2>&1 || missing+=(debootstrap)
command -v curl >/dev/null 2>&1 || missing+=(curl)
# The tests find the host's address on Docker's bridge with `ip` (a fresh daemon leaves the
# bridge's Gateway field empty).
command -v ip >/dev/null 2>&1 || missing+=(iproute2)
# dm-init, the sandbox's PID 1, is built from C source, static (containers/build-images.sh).
command -v cc >/dev/null 2>&1 || missing+=(gcc)
[ -n "$(find /usr/lib /usr/lib64 -name libc.a 2>/dev/null | head -n 1)" ] || missing+=(libc6-dev)
# Headless Chromium drives the playground page in the tests.
command -v chromium >/dev/null 2>&1 || missing+=(chromium)
command -v chromedriver >/dev/null 2>&1 || missing+=(chromium-driver)
# An emoji font: the screenshots the browser tests keep show the bot's 👍, 🔁, 📋 … as drawn.
[ -n "$(find /usr/share/fonts -iname '*emoji*' 2>/dev/null | head -n 1)" ] || missing+=(fonts-noto-color-emoji)
# `docker compose config` validates docker-compose.yml in the tests (Compose v1 from Debian when
# the v2 plugin is absent).
docker compose version >/dev/null 2>&1 || command -v docker-compose >/dev/null 2>&1 || missing+=(docker-compose)
# A TLS endpoint in front of the Docker socket (stunnel + openssl) tests DOCKER_HOST over TLS.
command -v stunnel >/dev/null 2>&1 || missing+=(stunnel4)
command -v openssl >/dev/null 2>&1 || missing+=(openssl)
if [ ${#missing[@]} -gt 0 ]; then
  need_root
  log "installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -q
  apt-get install -y -q --no-install-recommends "${missing[@]}"
fi
command -v cargo >/dev/null 2>&1 || die "cargo is missing: install the Rust toolchain (https://rustup.rs) first"

# --- Docker -------------------------------------------------------------------------------
if ! docker info >/dev/null 2>&1; then
  # An engine named by DOCKER_HOST is somebody else's to start.
  if [ -n "${DOCKER_HOST:-}" ] && [ "${DOCKER_HOST}" != unix:///var/run/docker.sock ]; then
    die "the Docker engine at DOCKER_HOST=$DOCKER_HOST is not reachable: start it, or unset DOCKER_HOST to use the local one"
  fi
  need_root
  log "starting dockerd (log: $STATE_DIR/dockerd.log)"
  # Debian's docker.io needs containerd and iptables; dockerd starts containerd itself.
  nohup dockerd >"$STATE_DIR/dockerd.log" 2>&1 &
  for _ in $(seq 1 60); do
    docker info >/dev/null 2>&1 && break
    sleep 0.5
  done
  docker info >/dev/null 2>&1 || { tail -n 20 "$STATE_DIR/dockerd.log" >&2; die "dockerd did not start (see $STATE_DIR/dockerd.log)"; }
fi
log "docker: $(docker version --format '{{.Server.Version}}' 2>/dev/null)"

# --- PostgreSQL ---------------------------------------------------------------------------
PG_VERSION=$(ls /usr/lib/postgresql 2>/dev/null | sort -V | tail -n 1)
[ -n "$PG_VERSION" ] || die "PostgreSQL is not installed (apt-get install postgresql)"
if ! pg_lsclusters -h 2>/dev/null | awk '{print $4}' | grep -q online; then
  need_root
  if ! pg_lsclusters -h 2>/dev/null | grep -q .; then
    log "creating PostgreSQL cluster $PG_VERSION/main"
    pg_createcluster "$PG_VERSION" main >/dev/null
  fi
  log "starting PostgreSQL $PG_VERSION"
  pg_ctlcluster "$PG_VERSION" main start
fi
# The development role and database (password auth on 127.0.0.1, as the app connects).
su postgres -c "psql -qtAc \"SELECT 1 FROM pg_roles WHERE rolname='devmentor'\"" | grep -q 1 ||
  su postgres -c "psql -qc \"CREATE ROLE devmentor LOGIN SUPERUSER PASSWORD 'devmentor'\""
su postgres -c "psql -qtAc \"SELECT 1 FROM pg_database WHERE datname='devmentor'\"" | grep -q 1 ||
  su postgres -c "createdb -O devmentor devmentor"
log "postgresql: $(su postgres -c 'psql -qtAc "SHOW server_version"')"

# --- Redis --------------------------------------------------------------------------------
if ! redis-cli -h 127.0.0.1 ping >/dev/null 2>&1; then
  log "starting redis-server"
  redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --appendonly yes \
    --dir "$STATE_DIR" --logfile "$STATE_DIR/redis.log"
  for _ in $(seq 1 40); do
    redis-cli -h 127.0.0.1 ping >/dev/null 2>&1 && break
    sleep 0.25
  done
  redis-cli -h 127.0.0.1 ping >/dev/null 2>&1 || die "redis did not start (see $STATE_DIR/redis.log)"
fi
log "redis: $(redis-cli -h 127.0.0.1 info server | grep redis_version | tr -d '\r')"
