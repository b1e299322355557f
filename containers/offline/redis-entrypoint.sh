#!/bin/sh
# The part of the official redis image's entrypoint that docker-compose.yml uses: options alone
# mean redis-server; as root, own /data and drop to the redis user. Debian's binary starts in
# protected mode (loopback only without a password); the official image does not.
set -e

if [ "${1#-}" != "$1" ] || [ "${1%.conf}" != "$1" ]; then set -- redis-server "$@"; fi

if [ "$1" = redis-server ] && [ "$(id -u)" = 0 ]; then
    find . \! -user redis -exec chown redis '{}' +
    exec setpriv --reuid=redis --regid=redis --init-groups "$0" "$@"
fi

if [ "$1" = redis-server ]; then
    case " $* " in
        *" --protected-mode "*) ;;
        *) set -- "$@" --protected-mode no ;;
    esac
fi

exec "$@"
