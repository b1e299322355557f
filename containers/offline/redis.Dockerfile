# Stand-in for the official redis:7 image (containers/offline-service-images.sh): Debian's
# Redis 7 run from /data as the redis user, listening on every interface (protected mode off,
# as in the official image).
ARG BASE=devmentor/offline-debian:bookworm-slim
FROM ${BASE}
RUN set -eux; \
    printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d; chmod +x /usr/sbin/policy-rc.d; \
    apt-get update; \
    apt-get install -y --no-install-recommends redis-server; \
    rm -rf /var/lib/apt/lists/*; \
    install -d -o redis -g redis /data
COPY redis-entrypoint.sh /usr/local/bin/docker-entrypoint.sh
VOLUME /data
WORKDIR /data
ENTRYPOINT ["docker-entrypoint.sh"]
EXPOSE 6379
CMD ["redis-server"]
