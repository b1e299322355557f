#!/usr/bin/env bash
# Builds the sandbox images devmentor/<lang>:latest WITHOUT a container registry.
#
#   containers/build-images.sh            # every language pack that has a packages.txt
#   containers/build-images.sh go rust    # only those
#   FORCE=1 containers/build-images.sh c  # rebuild even if the image exists
#
# Each image is a Debian root file system made by `debootstrap --variant=minbase`, with the
# packages listed in containers/<lang>/packages.txt, trimmed, given the non-root user
# `sandbox` (uid/gid 10001, home /sandbox), given dm-init (containers/init/dm-init.c, the PID 1
# that runs the program and reports its outcome; built here with this machine's C compiler,
# static) and imported with `docker import`. Only Debian's apt mirror is needed; the production
# images come from containers/<lang>/Dockerfile instead, with the same packages and dm-init.
#
# An existing image is skipped only while its recipe (packages.txt, prepare.sh, the [env] of
# language.toml, dm-init's source and protocol, the Debian suite) is unchanged: the image carries
# the recipe's hash as the label devmentor.recipe, so an outdated image is rebuilt without FORCE.
# It also carries the toolchain's version (label devmentor.toolchain, from the `# version:`
# command of packages.txt), which `devmentor languages` shows.
#
# Environment:
#   FORCE=1                 rebuild images even when they are up to date (default: skip them)
#   DEBIAN_MIRROR=URL       apt mirror (default http://deb.debian.org/debian)
#   DEBIAN_SUITE=NAME       Debian release (default trixie, Debian 13: the production
#                           Dockerfiles' debian:trixie-slim)
#   DEBOOTSTRAP_CACHE=DIR   where downloaded .debs are kept between builds and runs
#                           (default /var/cache/devmentor/debootstrap)
#   BUILD_DIR=DIR           where root file systems are assembled (default /var/tmp)
#   IMAGE_PREFIX=NAME       image name prefix (default devmentor)
#   KEEP_LOGS=1             keep the per-image build logs even when the build succeeds
#   LOG_DIR=DIR             where the build logs go (default /var/log/devmentor-images)
set -euo pipefail

CONTAINERS_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# FORCE, MIRROR, SUITE, CACHE_DIR, BUILD_DIR (defaults shared with the offline stand-ins).
# shellcheck source=containers/offline-lib.sh
source "$CONTAINERS_DIR/offline-lib.sh"
# The sandbox images are Debian 13's toolchains, as in production (debian:trixie-slim); the
# library's default (bookworm) is for the stand-ins of the app image's bases, not sandboxes.
SUITE=${DEBIAN_SUITE:-trixie}
IMAGE_PREFIX=${IMAGE_PREFIX:-devmentor}
KEEP_LOGS=${KEEP_LOGS:-0}
LOG_DIR=${LOG_DIR:-/var/log/devmentor-images}

# Every image needs these: /bin/sh for the compile/run commands, head -c and tar for the runner.
COMMON_PACKAGES=(dash coreutils tar)
SANDBOX_UID=10001
SANDBOX_PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin

die() { printf 'build-images: error: %s\n' "$*" >&2; exit 1; }
note() { printf '    %s\n' "$*"; }
elapsed() { # seconds -> "1m23s"
    local s=$1
    if ((s >= 60)); then printf '%dm%02ds' $((s / 60)) $((s % 60)); else printf '%ds' "$s"; fi
}

usage() {
    sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed '$d; s/^# \{0,1\}//'
}

# ---------------------------------------------------------------------------------------------
# Preflight: fail loudly and early, with the fix in the message.
# ---------------------------------------------------------------------------------------------
preflight() {
    [[ $(id -u) -eq 0 ]] || die "must run as root (debootstrap and chroot need it): sudo $0 $*"
    command -v debootstrap >/dev/null 2>&1 \
        || die "debootstrap is missing: apt-get install debootstrap"
    command -v docker >/dev/null 2>&1 \
        || die "the docker command is missing: apt-get install docker.io"
    local out
    if ! out=$(docker version --format '{{.Server.Version}}' 2>&1); then
        die "docker is not reachable (${out##*$'\n'}): start dockerd: systemctl start docker (or run dockerd &)"
    fi
    command -v cc >/dev/null 2>&1 || die "a C compiler is missing (dm-init is built from source): apt-get install gcc libc6-dev"
    local tool
    for tool in chroot tar findmnt flock mktemp sha256sum; do
        command -v "$tool" >/dev/null 2>&1 || die "$tool is missing (coreutils/tar/util-linux)"
    done
    case $CACHE_DIR in /*) ;; *) die "DEBOOTSTRAP_CACHE must be an absolute path: $CACHE_DIR" ;; esac
    mkdir -p "$CACHE_DIR" "$BUILD_DIR" "$LOG_DIR"
}

# ---------------------------------------------------------------------------------------------
# Reading a language pack
# ---------------------------------------------------------------------------------------------
# Package names from packages.txt: whitespace separated, '#' starts a comment.
pack_packages() {
    sed 's/#.*//' "$CONTAINERS_DIR/$1/packages.txt" | tr -s ' \t' '\n' | sed '/^$/d'
}

# Commands that must be on PATH in the finished image: '# check: cmd cmd' lines in packages.txt.
pack_checks() {
    sed -n 's/^[[:space:]]*#[[:space:]]*check:[[:space:]]*//p' "$CONTAINERS_DIR/$1/packages.txt" \
        | tr -s ' \t' '\n' | sed '/^$/d'
}

# KEY=value lines from the [env] table of language.toml (only plain `KEY = "value"` strings,
# which is all the language packs use). Used so that image preparation (the Go cache) runs
# with exactly the environment of the sandbox.
pack_env() {
    local toml=$CONTAINERS_DIR/$1/language.toml
    [[ -f $toml ]] || return 0
    awk '
        /^[[:space:]]*\[/ { in_env = ($0 ~ /^[[:space:]]*\[env\][[:space:]]*$/); next }
        in_env && match($0, /^[[:space:]]*[A-Za-z_][A-Za-z0-9_]*[[:space:]]*=[[:space:]]*"[^"]*"/) {
            line = substr($0, RSTART, RLENGTH)
            key = line; sub(/^[[:space:]]*/, "", key); sub(/[[:space:]]*=.*/, "", key)
            val = line; sub(/^[^"]*"/, "", val); sub(/"$/, "", val)
            print key "=" val
        }' "$toml"
}

# Runs a command inside the root file system with a clean environment (plus the pack env).
in_rootfs() {
    local rootfs=$1 lang=$2; shift 2
    local -a envs=()
    mapfile -t envs < <(pack_env "$lang")
    chroot "$rootfs" /usr/bin/env -i PATH="$SANDBOX_PATH" HOME=/root LANG=C.UTF-8 \
        "${envs[@]}" "$@"
}

# ---------------------------------------------------------------------------------------------
# Per-language preparation: containers/<lang>/prepare.sh, the same script the production
# Dockerfile runs (a RUN line), run as root in the chroot after debootstrap, before trimming,
# with the pack's language.toml beside it and the pack's [env].
# ---------------------------------------------------------------------------------------------
run_prepare() {
    local rootfs=$1 lang=$2 dir=/tmp/devmentor-prepare
    mkdir -p "$rootfs$dir"
    cp "$CONTAINERS_DIR/$lang/prepare.sh" "$rootfs$dir/prepare.sh"
    [[ ! -f $CONTAINERS_DIR/$lang/language.toml ]] || cp "$CONTAINERS_DIR/$lang/language.toml" "$rootfs$dir/"
    if ! in_rootfs "$rootfs" "$lang" sh "$dir/prepare.sh" >>"$BUILD_LOG" 2>&1; then
        tail -n 20 "$BUILD_LOG" >&2
        die "$lang/prepare.sh failed (full log: $BUILD_LOG)"
    fi
    rm -rf "${rootfs:?}$dir"
}

# The toolchain's version, from the `# version:` command of packages.txt run in the root file
# system: the label devmentor.toolchain (`devmentor languages` shows it). One line, no quotes.
pack_version_cmd() {
    sed -n 's/^[[:space:]]*#[[:space:]]*version:[[:space:]]*//p' "$CONTAINERS_DIR/$1/packages.txt" | head -n1
}
toolchain_version() {
    local rootfs=$1 lang=$2 cmd out
    cmd=$(pack_version_cmd "$lang")
    [[ -n $cmd ]] || return 0 # no version command: an empty label ("version unknown")
    out=$(in_rootfs "$rootfs" "$lang" sh -c "$cmd" 2>&1 | head -n1 | tr -d '"\\' | tr -s ' \t' ' ') || true
    out=${out# }; out=${out% }
    [[ -n $out ]] || die "the version command of $lang printed nothing: $cmd"
    printf '%s\n' "$out"
}

# ---------------------------------------------------------------------------------------------
# Building one image
# ---------------------------------------------------------------------------------------------
ROOTFS_TMP=""
BUILD_LOG=/dev/null
cleanup_rootfs() {
    [[ -n $ROOTFS_TMP && -d $ROOTFS_TMP ]] || return 0
    # debootstrap (or a hook) may have left /proc, /sys or a bind-mounted /dev behind: unmount
    # them first, deepest first, and never let rm cross into a mounted file system.
    local m
    local -a mounts=()
    mapfile -t mounts < <(findmnt -rn -o TARGET | grep -F "$ROOTFS_TMP/" | sort -r || true)
    for m in "${mounts[@]}"; do
        umount -l "$m" 2>/dev/null || true
    done
    rm -rf --one-file-system "$ROOTFS_TMP" || echo "build-images: could not remove $ROOTFS_TMP" >&2
}

mount_proc() { mount -t proc proc "$1/proc"; }
umount_proc() { ! mountpoint -q "$1/proc" || umount -l "$1/proc"; }

trim_rootfs() {
    local r=$1
    rm -rf "$r"/var/lib/apt/lists/* "$r"/var/cache/apt/* "$r"/var/cache/debconf/*-old \
        "$r"/var/lib/dpkg/*-old "$r"/tmp/* "$r"/var/tmp/* "$r"/root/.cache
    find "$r/var/log" -type f -delete
    # Documentation, keeping the licences (usr/share/doc/*/copyright).
    if [[ -d $r/usr/share/doc ]]; then
        find "$r/usr/share/doc" -depth -mindepth 1 ! -type d ! -name copyright -delete
        find "$r/usr/share/doc" -depth -mindepth 1 -type d -empty -delete
    fi
    rm -rf "$r"/usr/share/man/* "$r"/usr/share/info/* "$r"/usr/share/groff \
        "$r"/usr/share/lintian "$r"/usr/share/linda
    # Locales: only C.UTF-8 (built into glibc at /usr/lib/locale/C.utf8) is used.
    if [[ -d $r/usr/share/locale ]]; then
        find "$r/usr/share/locale" -mindepth 1 -maxdepth 1 ! -name locale.alias -exec rm -rf {} +
    fi
    if [[ -d $r/usr/lib/locale ]]; then
        find "$r/usr/lib/locale" -mindepth 1 -maxdepth 1 ! -name C.utf8 ! -name C.UTF-8 \
            -exec rm -rf {} +
    fi
    # Host files debootstrap copied in: docker provides its own.
    : >"$r/etc/resolv.conf"
    echo sandbox >"$r/etc/hostname"
}

add_sandbox_user() {
    local r=$1 u=$SANDBOX_UID
    grep -q "^sandbox:" "$r/etc/passwd" && return 0
    echo "sandbox:x:$u:$u:Dev-Mentor sandbox:/sandbox:/bin/sh" >>"$r/etc/passwd"
    echo "sandbox:x:$u:" >>"$r/etc/group"
    [[ ! -f $r/etc/shadow ]] || echo "sandbox:!:19000:0:99999:7:::" >>"$r/etc/shadow"
    [[ ! -f $r/etc/gshadow ]] || echo "sandbox:!::" >>"$r/etc/gshadow"
    mkdir -p "$r/sandbox"
    chmod 1777 "$r/sandbox" "$r/tmp"
}

# dm-init, built once per run of this script, static so it runs on any image's libc.
DM_INIT_SRC=$CONTAINERS_DIR/init/dm-init.c
DM_INIT_PROTOCOL=$(tr -d ' \n' <"$CONTAINERS_DIR/init/PROTOCOL")
DM_INIT_BIN=""
build_dm_init() {
    DM_INIT_BIN=$BUILD_DIR/devmentor-dm-init.$$
    cc -static -O2 -Wall -Werror -o "$DM_INIT_BIN" "$DM_INIT_SRC" \
        || die "building dm-init failed: a static C library is needed (apt-get install libc6-dev)"
}

# The hash of everything an image is made from (see the header): the label devmentor.recipe.
pack_recipe() {
    { cat "$CONTAINERS_DIR/$1/packages.txt" "$DM_INIT_SRC"
      [[ ! -f $CONTAINERS_DIR/$1/prepare.sh ]] || cat "$CONTAINERS_DIR/$1/prepare.sh"
      echo "$DM_INIT_PROTOCOL $SUITE"; pack_env "$1"; } \
        | sha256sum | cut -c1-16
}

install_dm_init() {
    install -D -m 0755 -o 0 -g 0 "$DM_INIT_BIN" "$1/opt/devmentor/dm-init"
}

verify_rootfs() {
    local r=$1 lang=$2 cmd
    for cmd in /bin/sh /usr/bin/head /usr/bin/tar; do
        [[ -x $r$cmd || -L $r$cmd ]] || die "$cmd is missing from the $lang root file system"
    done
    local -a checks=()
    mapfile -t checks < <(pack_checks "$lang")
    for cmd in sh head tar "${checks[@]}"; do
        in_rootfs "$r" "$lang" sh -c "command -v '$cmd'" >/dev/null \
            || die "'$cmd' is not on PATH in the $lang root file system"
    done
}

build_one() {
    local lang=$1 image=$IMAGE_PREFIX/$1:latest log=$LOG_DIR/$1.log
    BUILD_LOG=$log
    ROOTFS_TMP=$(mktemp -d "$BUILD_DIR/devmentor-$lang.XXXXXX")
    trap cleanup_rootfs EXIT
    trap 'exit 130' INT TERM
    local rootfs=$ROOTFS_TMP/rootfs t0=$SECONDS
    : >"$log"

    local -a pkgs=("${COMMON_PACKAGES[@]}")
    mapfile -t -O ${#pkgs[@]} pkgs < <(pack_packages "$lang")
    local include
    include=$(printf '%s\n' "${pkgs[@]}" | awk '!seen[$0]++' | paste -sd, -)

    note "debootstrap $SUITE from $MIRROR (--include=$include)"
    if ! debootstrap --variant=minbase --include="$include" --cache-dir="$CACHE_DIR" \
        "$SUITE" "$rootfs" "$MIRROR" >>"$log" 2>&1; then
        tail -n 25 "$log" >&2
        [[ ! -f $rootfs/debootstrap/debootstrap.log ]] || tail -n 25 "$rootfs/debootstrap/debootstrap.log" >&2
        die "debootstrap failed for $lang (full log: $log)"
    fi
    note "debootstrap done in $(elapsed $((SECONDS - t0)))"

    mount_proc "$rootfs"
    if [[ -f $CONTAINERS_DIR/$lang/prepare.sh ]]; then
        local t1=$SECONDS
        run_prepare "$rootfs" "$lang"
        note "$lang/prepare.sh done in $(elapsed $((SECONDS - t1)))"
    fi
    local toolchain
    toolchain=$(toolchain_version "$rootfs" "$lang")
    note "toolchain: $toolchain"
    umount_proc "$rootfs"

    trim_rootfs "$rootfs"
    add_sandbox_user "$rootfs"
    install_dm_init "$rootfs"
    verify_rootfs "$rootfs" "$lang"

    note "importing $(du -sh --one-file-system "$rootfs" | cut -f1) into docker"
    local t2=$SECONDS
    # Import under a temporary tag; only a smoke-tested image becomes :latest.
    local candidate=$IMAGE_PREFIX/$lang:building old_id
    old_id=$(docker image inspect --format '{{.Id}}' "$image" 2>/dev/null || true)
    tar --numeric-owner -C "$rootfs" --exclude='./dev/*' --exclude='./proc/*' --exclude='./sys/*' \
        -c . \
        | docker import \
            --change "USER $SANDBOX_UID:$SANDBOX_UID" \
            --change 'WORKDIR /sandbox' \
            --change "ENV PATH=$SANDBOX_PATH" \
            --change 'ENV LANG=C.UTF-8' \
            --change 'CMD ["/bin/sh"]' \
            --change "LABEL org.opencontainers.image.title=devmentor-$lang" \
            --change "LABEL devmentor.build=offline-debootstrap-$SUITE" \
            --change "LABEL devmentor.init=$DM_INIT_PROTOCOL" \
            --change "LABEL devmentor.recipe=$(pack_recipe "$lang")" \
            --change "LABEL devmentor.toolchain=\"$toolchain\"" \
            --message "devmentor $lang sandbox image (debootstrap $SUITE, containers/build-images.sh)" \
            - "$candidate" >>"$log"

    # Smoke test as the sandbox runs it: non-root, no network, read-only root.
    local -a checks=()
    mapfile -t checks < <(pack_checks "$lang")
    docker run --rm --network none --read-only --user "$SANDBOX_UID:$SANDBOX_UID" \
        --cap-drop ALL --security-opt no-new-privileges "$candidate" \
        sh -c 'set -e; [ "$(id -u)" = '"$SANDBOX_UID"' ]; [ "$(pwd)" = /sandbox ];
               printf abc | head -c 2 >/dev/null; tar --version >/dev/null;
               for c in "$@"; do command -v "$c" >/dev/null || { echo "missing $c" >&2; exit 1; }; done' \
        sh "${checks[@]}" >>"$log" 2>&1 \
        || { tail -n 5 "$log" >&2; docker image rm "$candidate" >/dev/null 2>&1 || true;
             die "smoke test of $candidate failed"; }
    # dm-init as the sandbox starts it: a payload in, the program's output and an
    # authenticated trailer out, with dm-init's exit code the program's.
    local key out rc
    key=$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')
    set +e
    out=$(printf '%s file 3 0 probe.txt\nabc' "$key" \
        | docker run -i --rm --network none --read-only --tmpfs /sandbox:rw,exec,mode=1777 \
            --user "$SANDBOX_UID:$SANDBOX_UID" --cap-drop ALL --security-opt no-new-privileges \
            "$candidate" /opt/devmentor/dm-init run '' 'cat "$FILE"; exit 7' 2>>"$log")
    rc=$?
    set -e
    if [[ $rc != 7 || $out != abc$'\001'"DM1 o x7 3 "* ]]; then
        echo "dm-init smoke test: exit $rc, output: $out" >>"$log"
        tail -n 5 "$log" >&2
        docker image rm "$candidate" >/dev/null 2>&1 || true
        die "dm-init does not work in $candidate"
    fi
    docker tag "$candidate" "$image"
    docker image rm "$candidate" >>"$log"
    note "imported and smoke-tested in $(elapsed $((SECONDS - t2)))"
    # The image this one replaces (FORCE=1) is now untagged: drop it unless a container uses it.
    if [[ -n $old_id && $old_id != "$(docker image inspect --format '{{.Id}}' "$image")" ]]; then
        local err
        err=$(docker image rm "$old_id" 2>&1) \
            || note "kept the previous image ${old_id:7:12}: ${err##*$'\n'}"
    fi
    [[ $KEEP_LOGS == 1 ]] || rm -f "$log"
}

image_size() {
    docker image inspect --format '{{.Size}}' "$1" 2>/dev/null \
        | awk '{ printf "%.0f MB", $1 / 1000 / 1000 }'
}

# ---------------------------------------------------------------------------------------------
main() {
    case ${1:-} in -h | --help) usage; exit 0 ;; esac
    preflight "$@"

    local -a langs=()
    if (($#)); then
        langs=("$@")
    else
        local d
        for d in "$CONTAINERS_DIR"/*/; do
            d=${d%/}
            [[ -f $d/packages.txt ]] && langs+=("${d##*/}")
        done
    fi
    ((${#langs[@]})) || die "no language packs with a packages.txt under $CONTAINERS_DIR"
    local lang
    for lang in "${langs[@]}"; do
        [[ -f $CONTAINERS_DIR/$lang/packages.txt ]] \
            || die "unknown language '$lang': $CONTAINERS_DIR/$lang/packages.txt does not exist"
    done

    # One build at a time on this machine (they share the .deb cache and docker tags).
    exec 9>"$BUILD_DIR/devmentor-build-images.lock"
    if ! flock -n 9; then
        echo "build-images: another build is running; waiting for it to finish..."
        flock 9
    fi

    trap 'echo "build-images: interrupted" >&2; exit 130' INT TERM
    build_dm_init
    trap 'rm -f "$DM_INIT_BIN"' EXIT
    local -a summary=()
    local failed=0 t_all=$SECONDS
    for lang in "${langs[@]}"; do
        local image=$IMAGE_PREFIX/$lang:latest
        local have
        have=$(docker image inspect --format '{{index .Config.Labels "devmentor.recipe"}}' "$image" 2>/dev/null || true)
        if [[ $FORCE != 1 && -n $have && $have == "$(pack_recipe "$lang")" ]]; then
            echo "==> skipping $image (up to date; FORCE=1 rebuilds it)"
            summary+=("$(printf '%-12s %-8s %8s %10s' "$lang" skipped - "$(image_size "$image")")")
            continue
        fi
        if [[ -n $have || $(docker image inspect --format '{{.Id}}' "$image" 2>/dev/null) ]]; then
            echo "==> rebuilding $image (its recipe changed: packages, dm-init or suite)"
        else
            echo "==> building $image"
        fi
        local t0=$SECONDS rc=0
        set +e
        (set -e; build_one "$lang")
        rc=$?
        set -e
        local took=$((SECONDS - t0))
        ((rc != 130)) || { echo "build-images: interrupted" >&2; exit 130; }
        if ((rc == 0)); then
            echo "==> built $image in $(elapsed $took) ($(image_size "$image"))"
            summary+=("$(printf '%-12s %-8s %8s %10s' "$lang" built "$(elapsed $took)" "$(image_size "$image")")")
        else
            echo "==> FAILED $image after $(elapsed $took) (log: $LOG_DIR/$lang.log)"
            summary+=("$(printf '%-12s %-8s %8s %10s' "$lang" FAILED "$(elapsed $took)" -)")
            failed=$((failed + 1))
        fi
    done

    echo
    echo "Summary ($(elapsed $((SECONDS - t_all))) total):"
    printf '  %-12s %-8s %8s %10s\n' LANGUAGE STATUS TIME SIZE
    local line
    for line in "${summary[@]}"; do echo "  $line"; done
    if ((failed)); then
        echo "build-images: $failed image(s) failed" >&2
        exit 1
    fi
}

main "$@"
