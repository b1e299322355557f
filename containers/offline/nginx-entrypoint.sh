#!/bin/sh
# The official nginx image's template step: every /etc/nginx/templates/*.template is written to
# /etc/nginx/conf.d without the suffix, with ${VAR} replaced for variables set in the
# environment only (so nginx's own $host, $request_uri stay as they are).
set -e

if [ "$1" = nginx ] || [ "$1" = nginx-debug ]; then
    template_dir=${NGINX_ENVSUBST_TEMPLATE_DIR:-/etc/nginx/templates}
    output_dir=${NGINX_ENVSUBST_OUTPUT_DIR:-/etc/nginx/conf.d}
    suffix=${NGINX_ENVSUBST_TEMPLATE_SUFFIX:-.template}
    if [ -d "$template_dir" ]; then
        defined=$(env | sed -n 's/^\([A-Za-z_][A-Za-z0-9_]*\)=.*/${\1}/p' | tr '\n' ' ')
        for template in "$template_dir"/*"$suffix"; do
            [ -f "$template" ] || continue
            out="$output_dir/$(basename "$template" "$suffix")"
            envsubst "$defined" <"$template" >"$out"
            echo "$0: $template -> $out"
        done
    fi
fi

exec "$@"
