#!/usr/bin/env bash
# Builds stand-ins for the three official service images of docker-compose.yml on a machine
# that cannot pull from a registry, so the production stack can be brought up and tried there:
#
#   containers/offline-service-images.sh     # prints the three .env lines to use (put them in
#                                            # place of POSTGRES_IMAGE, REDIS_IMAGE, NGINX_IMAGE)
#
#   devmentor/offline-postgres:15   for postgres:15  (Debian's postgresql-15; the official
#                                    entrypoint's POSTGRES_USER/PASSWORD/DB on first start)
#   devmentor/offline-redis:7       for redis:7      (Debian's redis-server, run as redis in /data)
#   devmentor/offline-nginx:1.27    for nginx:1.27   (Debian trixie's nginx 1.26 and the official
#                                    entrypoint's /etc/nginx/templates step)
#
# Each is built from a `debootstrap --variant=minbase` Debian (containers/offline-lib.sh) with
# packages from Debian's apt mirror; the sources are in containers/offline/. docker-compose.yml
# takes them through POSTGRES_IMAGE, REDIS_IMAGE and NGINX_IMAGE. Production never uses them.
# Progress goes to standard error; standard output is only the .env lines.
#
# Environment: FORCE=1, DEBIAN_MIRROR, DEBOOTSTRAP_CACHE, BUILD_DIR (containers/offline-lib.sh).
set -euo pipefail

CONTAINERS_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
die() { printf 'offline-service-images: error: %s\n' "$*" >&2; exit 1; }
# shellcheck source=containers/offline-lib.sh
source "$CONTAINERS_DIR/offline-lib.sh"

offline_preflight
offline_workdir devmentor-offline-services

{
    debian_slim_image bookworm devmentor/offline-debian:bookworm-slim "$WORK"
    debian_slim_image trixie devmentor/offline-debian:trixie-slim "$WORK"
    # name, Dockerfile, base image
    for spec in "postgres:15 postgres bookworm" "redis:7 redis bookworm" "nginx:1.27 nginx trixie"; do
        read -r tag file suite <<<"$spec"
        image=devmentor/offline-$tag
        if have_image "$image"; then
            echo "==> $image exists (FORCE=1 rebuilds it)"
            continue
        fi
        echo "==> $image: containers/offline/$file.Dockerfile"
        docker build -q -f "$CONTAINERS_DIR/offline/$file.Dockerfile" \
            --build-arg BASE="devmentor/offline-debian:$suite-slim" \
            -t "$image" "$CONTAINERS_DIR/offline" >"$WORK/$file.log" 2>&1 \
            || { tail -n 30 "$WORK/$file.log" >&2; die "building $image failed"; }
    done
} >&2

echo "POSTGRES_IMAGE=devmentor/offline-postgres:15"
echo "REDIS_IMAGE=devmentor/offline-redis:7"
echo "NGINX_IMAGE=devmentor/offline-nginx:1.27"
