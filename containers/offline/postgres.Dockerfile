# Stand-in for the official postgres:15 image (containers/offline-service-images.sh): Debian's
# PostgreSQL 15 with an entrypoint doing what docker-compose.yml relies on (POSTGRES_USER,
# POSTGRES_PASSWORD, POSTGRES_DB on first start; pg_isready, psql, pg_dump on PATH).
ARG BASE=devmentor/offline-debian:bookworm-slim
FROM ${BASE}
RUN set -eux; \
    printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d; chmod +x /usr/sbin/policy-rc.d; \
    mkdir -p /etc/postgresql-common; \
    echo 'create_main_cluster = false' > /etc/postgresql-common/createcluster.conf; \
    apt-get update; \
    apt-get install -y --no-install-recommends postgresql-15; \
    rm -rf /var/lib/apt/lists/*; \
    install -d -o postgres -g postgres -m 2777 /var/run/postgresql; \
    install -d -o postgres -g postgres -m 700 /var/lib/postgresql/data
COPY postgres-entrypoint.sh /usr/local/bin/docker-entrypoint.sh
ENV PATH=/usr/lib/postgresql/15/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
    PGDATA=/var/lib/postgresql/data \
    LANG=C.UTF-8
VOLUME /var/lib/postgresql/data
ENTRYPOINT ["docker-entrypoint.sh"]
STOPSIGNAL SIGINT
EXPOSE 5432
CMD ["postgres"]
