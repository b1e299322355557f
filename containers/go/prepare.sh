#!/bin/sh
# Image preparation of the go language pack: a warm build cache in /opt/go-cache. Run as root
# inside the image being built, by both builders: containers/build-images.sh (in the chroot,
# before trimming) and containers/go/Dockerfile (a RUN line), with language.toml next to it.
#
# `go build` caches compiled packages in GOCACHE. Go >= 1.20 ships no precompiled standard
# library, so with an empty cache a hello world compiles `fmt`, `os` and their dependencies
# (7-10 s on one CPU). The compile command of language.toml copies this cache to /tmp/go-cache
# (the root file system is read-only), so a student's build compiles main.go only and links.
# Cache keys depend on the build settings, so the cache is built with exactly the [env] of
# language.toml (read from the file here): when that table changes, the image is rebuilt.
set -eu
here=$(cd "$(dirname "$0")" && pwd)

# KEY = "value" lines of the [env] table (all the pack uses), exported.
for kv in $(awk '
    /^[[:space:]]*\[/ { in_env = ($0 ~ /^[[:space:]]*\[env\][[:space:]]*$/); next }
    in_env && match($0, /^[[:space:]]*[A-Za-z_][A-Za-z0-9_]*[[:space:]]*=[[:space:]]*"[^" ]*"/) {
        line = substr($0, RSTART, RLENGTH)
        key = line; sub(/^[[:space:]]*/, "", key); sub(/[[:space:]]*=.*/, "", key)
        val = line; sub(/^[^"]*"/, "", val); sub(/"$/, "", val)
        print key "=" val
    }' "$here/language.toml"); do
    export "$kv"
done
export GOCACHE=/opt/go-cache HOME=/tmp/devmentor-warm-home

warm=/tmp/devmentor-warm
mkdir -p "$warm" "$GOCACHE" "$HOME"
cat >"$warm/main.go" <<'GO'
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
	_ "maps"
	_ "math/big"
	_ "math/rand"
	_ "regexp"
	_ "slices"
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
GO
go version
cd "$warm"
go build -o main main.go
echo | ./main
cd /
rm -rf "$warm" "$HOME" "${GOPATH:-/tmp/go}"
chmod -R a+rX,go-w "$GOCACHE"
echo "warm Go build cache: $(du -sh "$GOCACHE" | cut -f1) in $GOCACHE"
