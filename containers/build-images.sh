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
# An existing image is skipped only while its recipe (packages.txt, the [env] of language.toml,
# dm-init's source and protocol, the Debian suite) is unchanged: the image carries the recipe's
# hash as the label devmentor.recipe, so an outdated image is rebuilt without FORCE.
#
# Environment:
#   FORCE=1                 rebuild images even when they are up to date (default: skip them)
#   DEBIAN_MIRROR=URL       apt mirror (default http://deb.debian.org/debian)
#   DEBIAN_SUITE=NAME       Debian release (default bookworm)
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
# Per-language preparation hooks: prepare_<lang> ROOTFS, run after debootstrap, before trimming.
# ---------------------------------------------------------------------------------------------

# Go: ship a warm build cache in /opt/go-cache. The compile command copies it to $GOCACHE
# (/tmp/go-cache, writable) so a student's `go build` only compiles main.go and links. The cache
# is built with the [env] of go/language.toml (CGO_ENABLED=0, GOFLAGS, ...), because every
# setting that changes how the standard library is compiled also changes the cache keys.
# Debian's Go 1.19 also ships the standard library precompiled in $GOROOT/pkg, which `go build`
# uses while it is not stale, so here the cache stays small (~1 MB) and is the fallback for
# settings that make $GOROOT/pkg stale; Go >= 1.20 (the production image) has no $GOROOT/pkg
# and depends on the cache: without it a hello world compiles the standard library (7-10 s on
# one CPU, measured here with `go build -a`).
prepare_go() {
    local rootfs=$1 warm=/tmp/devmentor-warm
    mkdir -p "$rootfs$warm" "$rootfs/opt/go-cache"
    cat >"$rootfs$warm/main.go" <<'EOF'
package main

import (
	"bufio"
	"fmt"
	"math"
	"os"
	"sort"
	"strconv"
	"strings"

	// Other packages beginners reach for: compiled once here so that they are cached too.
	_ "bytes"
	_ "container/heap"
	_ "container/list"
	_ "errors"
	_ "math/big"
	_ "math/rand"
	_ "regexp"
	_ "sync"
	_ "time"
	_ "unicode"
	_ "unicode/utf8"
)

func main() {
	in := bufio.NewReader(os.Stdin)
	line, _ := in.ReadString('\n')
	words := strings.Fields(line)
	sort.Strings(words)
	n, _ := strconv.Atoi("42")
	fmt.Println("hello", words, n, math.Sqrt(float64(n)))
}
EOF
    in_rootfs "$rootfs" go go version >>"$BUILD_LOG" 2>&1
    in_rootfs "$rootfs" go GOCACHE=/opt/go-cache sh -c \
        "cd $warm && go build -o main main.go && echo | ./main >/dev/null" >>"$BUILD_LOG" 2>&1 \
        || { tail -n 20 "$BUILD_LOG" >&2; die "building the warm Go cache failed"; }
    rm -rf "$rootfs$warm" "$rootfs/tmp/go"
    chmod -R a+rX,go-w "$rootfs/opt/go-cache"
    note "warm Go build cache: $(du -sh "$rootfs/opt/go-cache" | cut -f1) in /opt/go-cache"
}

# Java: make sure the class-data-sharing archive exists (`-Xshare:auto` in the compile and run
# commands uses it; it takes ~30% off JVM start-up). Debian's package does not always ship it.
prepare_java() {
    local rootfs=$1 jsa
    jsa=$(find "$rootfs/usr/lib/jvm" -path '*/lib/server/classes.jsa' 2>/dev/null | head -n1)
    if [[ -z $jsa ]]; then
        in_rootfs "$rootfs" java java -Xshare:dump >>"$BUILD_LOG" 2>&1
        jsa=$(find "$rootfs/usr/lib/jvm" -path '*/lib/server/classes.jsa' | head -n1)
        [[ -n $jsa ]] || die "java -Xshare:dump did not produce classes.jsa"
        note "generated the JVM class-data-sharing archive"
    fi
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
    { cat "$CONTAINERS_DIR/$1/packages.txt" "$DM_INIT_SRC"; echo "$DM_INIT_PROTOCOL $SUITE"; pack_env "$1"; } \
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

    if declare -F "prepare_$lang" >/dev/null; then
        local t1=$SECONDS
        mount_proc "$rootfs"
        "prepare_$lang" "$rootfs"
        umount_proc "$rootfs"
        note "prepare_$lang done in $(elapsed $((SECONDS - t1)))"
    fi

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
