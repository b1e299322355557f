# Stand-in for the official nginx:1.27 image (containers/offline-service-images.sh): Debian's
# nginx (trixie: 1.26, which knows `http2 on;`), with the official entrypoint's template step
# (/etc/nginx/templates/*.template → /etc/nginx/conf.d, ${VAR} of the environment only).
ARG BASE=devmentor/offline-debian:trixie-slim
FROM ${BASE}
RUN set -eux; \
    printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d; chmod +x /usr/sbin/policy-rc.d; \
    apt-get update; \
    apt-get install -y --no-install-recommends nginx gettext-base; \
    rm -rf /var/lib/apt/lists/*; \
    rm -f /etc/nginx/sites-enabled/default; \
    ln -sf /dev/stdout /var/log/nginx/access.log; \
    ln -sf /dev/stderr /var/log/nginx/error.log
COPY nginx-entrypoint.sh /docker-entrypoint.sh
ENTRYPOINT ["/docker-entrypoint.sh"]
EXPOSE 80
STOPSIGNAL SIGQUIT
CMD ["nginx", "-g", "daemon off;"]
