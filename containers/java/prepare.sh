#!/bin/sh
# Image preparation of the java language pack: the JVM's class-data-sharing archive. Run as root
# inside the image being built, by both builders: containers/build-images.sh (in the chroot,
# before trimming) and containers/java/Dockerfile (a RUN line).
#
# `-Xshare:auto` in the compile and run commands uses lib/server/classes.jsa when it exists: it
# takes about a third off the JVM's start-up. Debian's package does not always ship it.
set -eu
jsa=$(find /usr/lib/jvm -path '*/lib/server/classes.jsa' 2>/dev/null | head -n1)
if [ -z "$jsa" ]; then
    java -Xshare:dump
    jsa=$(find /usr/lib/jvm -path '*/lib/server/classes.jsa' | head -n1)
    [ -n "$jsa" ] || { echo "java -Xshare:dump did not produce classes.jsa" >&2; exit 1; }
    echo "generated the class-data-sharing archive $jsa"
else
    echo "class-data-sharing archive present: $jsa"
fi
