#!/usr/bin/env bash
# Build spamsift's container image with podman and check it without running a
# container (podman may not run them here): mount the file system of a container made
# from it (podman create + podman mount), then run the image's own commands in it with
# chroot, as its user and with its environment, each in mount, network and PID
# namespaces of its own, with a read-only root and an empty volume, as a container
# starts. `classify` must call a spam `spam` with no network; the default command must
# pass the image's own health check (seconds to that: ready_s); `spamd` must answer
# PING and `milter` take a connection. Also checked: a non-root user, the data folder a
# volume, the host's certificates in no layer. Run as root on Debian; `.ci/run` runs it
# through tests/deploy/test_image.py (SPAMSIFT_TEST_IMAGE=1, with which
# scripts/install-deps.sh installs podman, mmdebstrap and iproute2).
#
#   scripts/build-image.sh [IMAGE]      # default localhost/spamsift:latest
#
# BASE=IMAGE names the base (the Containerfile's default is the official
# python:3.11-slim-bookworm). Without BASE, a local one is made once from Debian's
# packages (mmdebstrap bookworm with python3 3.11 and the security updates) and kept as
# localhost/spamsift-base:bookworm, for machines that reach no container registry; it
# is made again only when its recipe below changes. The build mounts the host's
# certificates (/etc/ssl/certs) for pip; they stay out of the image.
# Prints key=value lines (what was checked, size_mb, ready_s, the seconds each step
# took) and exits non-zero, saying why, if a check fails. One run at a time, under a
# lock in $SPAMSIFT_IMAGE_STATE (default /var/tmp/spamsift-image), where the logs of a
# run are kept while it lasts; whatever a killed run left (its container, its logs),
# the next one removes.
set -euo pipefail
self=$(realpath "$0")
cd "$(dirname "$self")/.."

image=${1:-localhost/spamsift:latest}
state=${SPAMSIFT_IMAGE_STATE:-/var/tmp/spamsift-image}
container=spamsift-image-check  # one name, so a killed run's container is found again
say() { echo "build-image: $*" >&2; }
die() { say "$*"; exit 1; }
now() { date +%s.%N; }
since() { python3 -c "import sys; print(round($(now) - float(sys.argv[1]), 1))" "$1"; }

[ "$(id -u)" = 0 ] || die "run it as root: podman build, mount and chroot need root"
for tool in podman mmdebstrap unshare nsenter chroot flock ip python3; do
    command -v "$tool" >/dev/null || die "no $tool: SPAMSIFT_TEST_IMAGE=1 scripts/install-deps.sh installs podman, mmdebstrap and iproute2"
done
[ -s /etc/ssl/certs/ca-certificates.crt ] \
    || die "no /etc/ssl/certs/ca-certificates.crt: pip in the build reaches PyPI with the host's certificates"

# The lock is held by flock, which runs this script again; the fd is closed for it
# (--close), so the build's processes and the daemons do not inherit the lock.
if [ "${SPAMSIFT_IMAGE_LOCKED-}" != "$state/lock" ]; then
    mkdir -p "$state"
    flock -n "$state/lock" true || say "waiting (30 minutes at most) for another build-image.sh to finish ($state/lock)"
    SPAMSIFT_IMAGE_LOCKED=$state/lock exec flock --close -w 1800 "$state/lock" "$self" "$@"
fi
work=$state/work
daemon=""  # the unshare of a daemon being checked
building=""  # buildah's containers that were there before our build, while it runs
cleanup() {
    [ -z "$daemon" ] || { kill -KILL "$daemon" 2>/dev/null; wait "$daemon" 2>/dev/null; } || true
    # A podman build that was killed leaves its working containers (and their mounts):
    # those it made, the ones not there before it started.
    if [ -n "$building" ]; then
        podman ps -a --external --no-trunc --format '{{.ID}} {{.Names}}' 2>/dev/null \
            | grep -- '-working-container$' | grep -vxFf "$building" | cut -d' ' -f1 \
            | xargs -r podman rm -f >/dev/null 2>&1 || true
    fi
    # -v: the anonymous volume podman made for the image's VOLUME goes with it.
    podman rm -f -v --ignore "$container" >/dev/null 2>&1 || true
    rm -rf --one-file-system "$work"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
cleanup  # what a killed run left
mkdir "$work"
started=$(now)

# The local base: minbase with Python and certificates, and no documentation (as
# Debian's slim images); the merged-usr hook instead of the usrmerge package, which
# would bring Perl. mmdebstrap rather than debootstrap: it writes the tar itself, takes
# the security updates, and its base unpacks to 125 MB against 176 MB; timed alone on
# the busy 2-core machine, 37-70 s against debootstrap's 51-110 s.
# shellcheck disable=SC2054  # the commas are mmdebstrap's
base_recipe=(--variant=minbase --include=python3,python3-venv,ca-certificates
    --hook-dir=/usr/share/mmdebstrap/hooks/merged-usr
    --dpkgopt='path-exclude=/usr/share/doc/*' --dpkgopt='path-include=/usr/share/doc/*/copyright'
    --dpkgopt='path-exclude=/usr/share/man/*' --dpkgopt='path-exclude=/usr/share/info/*'
    --dpkgopt='path-exclude=/usr/share/locale/*'
    bookworm)
mirrors=("deb http://deb.debian.org/debian bookworm main"
    "deb http://deb.debian.org/debian bookworm-updates main"
    "deb http://deb.debian.org/debian-security bookworm-security main")
if [ -z "${BASE:-}" ]; then
    BASE=localhost/spamsift-base:bookworm
    recipe=$(printf '%s\n' "${base_recipe[@]}" "${mirrors[@]}" | sha256sum | cut -c1-16)
    have=$(podman image inspect --format '{{index .Config.Labels "spamsift.base.recipe"}}' \
        "$BASE" 2>/dev/null || true)
    if [ "$have" = "$recipe" ]; then
        echo "base=cached"
    else
        say "making $BASE with mmdebstrap (about a minute)"
        t=$(now)
        mmdebstrap --quiet "${base_recipe[@]}" "$work/base.tar" "${mirrors[@]}" \
            >"$work/mmdebstrap.log" 2>&1 \
            || { tail -n 30 "$work/mmdebstrap.log" >&2; die "mmdebstrap failed (its log above)"; }
        old=$(podman image inspect --format '{{.Id}}' "$BASE" 2>/dev/null || true)
        podman import --change "LABEL spamsift.base.recipe=$recipe" --change 'CMD ["/bin/bash"]' \
            "$work/base.tar" "$BASE" >/dev/null
        rm -f "$work/base.tar"
        # The base of an older recipe, unless images still stand on it.
        [ -z "$old" ] || podman rmi "$old" >/dev/null 2>&1 || true
        echo "base=made"
        echo "base_s=$(since "$t")"
    fi
fi

say "building $image on $BASE"
t=$(now)
old=$(podman image inspect --format '{{.Id}}' "$image" 2>/dev/null || true)
building=$work/containers-before-build
podman ps -a --external --no-trunc --format '{{.ID}} {{.Names}}' >"$building"
podman build --format docker --isolation chroot --force-rm -v /etc/ssl/certs:/etc/ssl/certs:ro \
    --build-arg "BASE=$BASE" -t "$image" -f Containerfile . >&2 \
    || die "podman build failed (its output above)"
building=""
echo "build_s=$(since "$t")"
new=$(podman image inspect --format '{{.Id}}' "$image")
# The image this tag named before: untagged now, it would only take space.
[ -z "$old" ] || [ "$old" = "$new" ] || podman rmi "$old" >/dev/null 2>&1 || true

t=$(now)
inspect() { podman image inspect --format "$1" "$image"; }
lines() { inspect "{{range $1}}{{println .}}{{end}}" | sed '/^$/d'; }
user=$(inspect '{{.Config.User}}')
workdir=$(inspect '{{.Config.WorkingDir}}')
workdir=${workdir:-/}
mapfile -t env < <(lines .Config.Env)
mapfile -t entrypoint < <(lines .Config.Entrypoint)
mapfile -t command < <(lines .Config.Cmd)
mapfile -t volumes < <(inspect '{{range $k, $v := .Config.Volumes}}{{println $k}}{{end}}' | sed '/^$/d')
mapfile -t health < <(lines .Config.Healthcheck.Test)
echo "user=$user"
echo "command=${entrypoint[*]} ${command[*]}"
echo "volumes=${volumes[*]}"
case "$user" in ""|root|0|0:*|root:*) die "the image runs as root (USER is '$user')" ;; esac
data_dir=$(printf '%s\n' "${env[@]}" | sed -n 's/^SPAMSIFT_DATA_DIR=//p')
[ -n "$data_dir" ] && printf '%s\n' "${volumes[@]}" | grep -qxF "$data_dir" \
    || die "SPAMSIFT_DATA_DIR ('$data_dir') is not one of the image's volumes (${volumes[*]})"
[ "${health[0]:-}" = CMD ] && [[ "${health[*]}" == */readyz* ]] \
    || die "the image's health check is not a command on /readyz: ${health[*]}"
# Every path the build added or changed next to the base: none under /etc/ssl.
baked=$(podman image diff "$image" "$BASE" | grep -E '^[AC] /etc/ssl/' || true)
[ -z "$baked" ] || die "the image changes the base's certificates: $baked"

# The file system a container of the image runs on: podman mounts it (overlay) for the
# created container. Exporting it to a folder instead, as first done, took 9-23 s, and
# deleting that folder 8-36 s more; this takes a fraction of a second.
podman create --no-healthcheck --name "$container" "$image" >/dev/null
root=$(podman mount "$container")
echo "size_mb=$(du -sm "$root" | cut -f1)"
echo "mount_s=$(since "$t")"

t=$(now)
uid=$(chroot "$root" id -u "$user")
gid=$(chroot "$root" id -g "$user")
# A command of the image, as a container runs it: own mount, network (loopback only) and
# PID namespaces; the root read-only, as the Kubernetes manifests mount it; /tmp,
# /dev/shm (multiprocessing's semaphores) and the volume empty tmpfs. Ports below 1024
# opened to the image's user, as README's spamd example asks podman to (--sysctl). The
# namespace's PID 1 is the shell below, not the command: killed, unshare passes KILL on
# to it (a process that changed user, as the command did, would not get it), and when
# PID 1 dies the kernel kills every process of the namespace.
in_image=(unshare --mount --net --pid --fork --kill-child=KILL -- sh -euc '
    root=$1 user=$2 uid=$3 gid=$4 volume=$5 workdir=$6; shift 6
    mount --bind "$root" "$root"
    mount -o remount,bind,ro "$root"
    mount -t proc proc "$root/proc"
    mount --rbind /dev "$root/dev"
    mount -t tmpfs tmpfs "$root/tmp"
    mount -t tmpfs tmpfs "$root/dev/shm"
    mount -t tmpfs -o "uid=$uid,gid=$gid,mode=0750" tmpfs "$root$volume"
    ip link set lo up
    echo 0 >/proc/sys/net/ipv4/ip_unprivileged_port_start
    chroot --userspec="$user:$user" "$root" env -i -C "$workdir" "$@"
    exit
' in_image "$root" "$user" "$uid" "$gid" "$data_dir" "$workdir" "${env[@]}")
# A command of the image beside the daemon being checked (in its namespaces).
beside() {
    nsenter --target "$daemon" --mount --net -- \
        chroot --userspec="$user:$user" "$root" env -i -C "$workdir" "${env[@]}" "$@"
}
# Start a daemon (NAME, then its arguments, --, a PROBE command), poll PROBE in the image
# beside it until it succeeds: the seconds that took go to $ready. If the daemon ends
# first, or 2 minutes pass, its log, and exit.
check_daemon() {
    local name=$1 start; shift
    local -a args=()
    while [ "$1" != -- ]; do args+=("$1"); shift; done
    shift
    start=$(now)
    "${in_image[@]}" "${args[@]}" >"$work/$name.log" 2>&1 &
    daemon=$!
    # Probe only once unshare is in its own network: before, 127.0.0.1 is the host's.
    while [ "$(readlink "/proc/$daemon/ns/net" 2>/dev/null || echo gone)" = "$(readlink /proc/self/ns/net)" ]; do
        sleep 0.01
    done
    local until=$((SECONDS + 120))
    while [ "$SECONDS" -lt "$until" ]; do
        if beside "$@" >/dev/null 2>&1; then
            ready=$(since "$start")
            kill -KILL "$daemon"; wait "$daemon" 2>/dev/null || true; daemon=""
            return
        fi
        kill -0 "$daemon" 2>/dev/null || break
        sleep 0.2
    done
    if kill -0 "$daemon" 2>/dev/null; then
        say "$name (${args[*]}) did not pass its check ($*) within 2 minutes; its log:"
    else
        say "$name (${args[*]}) ended before it passed its check; its log:"
    fi
    cat "$work/$name.log" >&2
    exit 1
}

# A verdict with no network: the model is the one inside the image.
"${in_image[@]}" "${entrypoint[@]}" classify --json - >"$work/classify.json" 2>"$work/classify.log" <<'MAIL' \
    || { cat "$work/classify.log" >&2; die "classify failed in the image (its output above)"; }
From: "Prize Office" <winner@lucky-prizes.example>
To: you@example.org
Subject: URGENT!!! You have WON $1,000,000 - claim your FREE prize now
Content-Type: text/plain

Congratulations! You have been selected to receive a FREE cash prize of $1,000,000.
Click here now to claim your prize: http://lucky-prizes.example/claim?id=777
Act now, this offer expires today! 100% free, no risk, no obligation. Viagra, cheap
meds, casino bonus, make money fast from home. Unsubscribe: reply REMOVE.
MAIL
verdict=$(python3 -c 'import json, sys; print(json.loads(open(sys.argv[1]).readline())["verdict"])' \
    "$work/classify.json")
echo "verdict=$verdict"
[ "$verdict" = spam ] || die "classify in the image: expected verdict spam, got '$verdict'"

# The default command, until the image's own health check passes.
check_daemon serve "${entrypoint[@]}" "${command[@]}" -- "${health[@]:1}"
echo "ready_s=$ready"
# README's spamd and milter commands.
connect="import socket, sys; s = socket.create_connection(('127.0.0.1', int(sys.argv[1])), timeout=2)"
ping="$connect; s.sendall(b'PING SPAMC/1.5\\r\\n\\r\\n'); sys.exit(b'PONG' not in s.recv(100))"
check_daemon spamd "${entrypoint[@]}" spamd --host 0.0.0.0 --port 783 -- python3 -c "$ping" 783
echo "spamd_ready_s=$ready"
check_daemon milter "${entrypoint[@]}" milter --host 0.0.0.0 --port 11332 \
    -- python3 -c "$connect" 11332
echo "milter_ready_s=$ready"
echo "check_s=$(since "$t")"
echo "total_s=$(since "$started")"
