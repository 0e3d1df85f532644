#!/usr/bin/env bash
# Build spamsift's container image with podman and check it without running a
# container: export its file system, then inside it with chroot (as its spamsift
# user, with its environment) classify a message and start `spamsift serve` on
# loopback until /readyz answers. Run as root on Debian (podman, and debootstrap when
# no base is given); tests/deploy/test_image.py runs it when SPAMSIFT_TEST_IMAGE=1.
#
#   scripts/build-image.sh [IMAGE]      # default localhost/spamsift:latest
#
# BASE=IMAGE names the base (the Containerfile's default is the official
# python:3.11-slim-bookworm). Without BASE, a local one is made once from Debian's
# packages (debootstrap bookworm with python3 3.11) and imported as
# localhost/spamsift-base:bookworm, for machines that reach no container registry.
# The build mounts the host's certificates (/etc/ssl/certs) for pip; they stay out of
# the image. Prints `size_mb=`, `verdict=` and `ready_s=` lines; exits non-zero if a
# check fails.
set -euo pipefail
cd "$(dirname "$0")/.."

image=${1:-localhost/spamsift:latest}
work=$(mktemp -d /var/tmp/spamsift-image.XXXXXX)
container=""
cleanup() {
    [ -z "$container" ] || podman rm -f "$container" >/dev/null 2>&1 || true
    rm -rf "$work"
}
trap cleanup EXIT

if [ -z "${BASE:-}" ]; then
    BASE=localhost/spamsift-base:bookworm
    if ! podman image exists "$BASE"; then
        echo "build-image: making $BASE with debootstrap" >&2
        debootstrap --variant=minbase --include=python3,python3-venv,ca-certificates \
            bookworm "$work/base" http://deb.debian.org/debian >/dev/null
        rm -rf "$work"/base/var/lib/apt/lists/* "$work"/base/var/cache/apt/archives/*.deb
        tar -C "$work/base" -c . | podman import --change 'CMD ["/bin/bash"]' - "$BASE" >/dev/null
        rm -rf "$work/base"
    fi
fi

echo "build-image: building $image on $BASE" >&2
podman build --format docker --isolation chroot -v /etc/ssl/certs:/etc/ssl/certs:ro \
    --build-arg "BASE=$BASE" -t "$image" -f Containerfile . >&2

# The file system as a container would see it, and the image's user and environment.
container=$(podman create "$image")
mkdir "$work/root"
podman export "$container" | tar -C "$work/root" -x
root="$work/root"
echo "size_mb=$(du -sm --exclude=proc --exclude=sys --exclude=dev "$root" | cut -f1)"
user=$(podman image inspect --format '{{.Config.User}}' "$image")
mapfile -t env < <(podman image inspect --format '{{range .Config.Env}}{{println .}}{{end}}' "$image" | sed '/^$/d')

# In a mount namespace of its own, so /proc, /dev and /tmp go away with it; /dev/shm
# for multiprocessing's semaphores (the parse workers). To stop a command, signal it:
# unshare ignores SIGTERM while it waits (and, killed, passes SIGTERM on).
in_image=(unshare --mount --fork --kill-child=TERM -- sh -c '
    root=$1; user=$2; shift 2
    mount -t proc proc "$root/proc"
    mount --rbind /dev "$root/dev"
    mount -t tmpfs tmpfs "$root/tmp"
    mount -t tmpfs tmpfs "$root/dev/shm"
    exec chroot --userspec="$user:$user" "$root" "$@"
' in_image "$root" "$user" env -i "${env[@]}")
in_image() { "${in_image[@]}" "$@"; }

# A verdict: spamsift classify on an obvious spam, from stdin.
verdict=$(in_image spamsift classify --json - <<'MAIL' | python3 -c 'import json, sys; print(json.loads(sys.stdin.readline())["verdict"])'
From: "Prize Office" <winner@lucky-prizes.example>
To: you@example.org
Subject: URGENT!!! You have WON $1,000,000 - claim your FREE prize now
Content-Type: text/plain

Congratulations! You have been selected to receive a FREE cash prize of $1,000,000.
Click here now to claim your prize: http://lucky-prizes.example/claim?id=777
Act now, this offer expires today! 100% free, no risk, no obligation. Viagra, cheap
meds, casino bonus, make money fast from home. Unsubscribe: reply REMOVE.
MAIL
)
echo "verdict=$verdict"
[ "$verdict" = spam ] || { echo "build-image: expected verdict spam, got '$verdict'" >&2; exit 1; }

# The other daemons are there: their options print, pymilter imports.
in_image spamsift spamd --help >/dev/null
in_image spamsift milter --help >/dev/null
in_image python3 -c 'import Milter'

# Images: a QR code and a picture of text read inside the image (the ocr extra: OpenCV
# and onnxruntime load on this base, the models are in the wheel, nothing downloads).
ocr=$(in_image python3 - <<'PY'
import io
import numpy as np
import zxingcpp
from PIL import Image, ImageDraw, ImageFont
from spamsift.config import ImageLimits
from spamsift.parse.extract.images import extract_image
im = Image.new("L", (900, 300), 255)
ImageDraw.Draw(im).text((20, 120), "Verify your account", fill=0, font=ImageFont.load_default(size=40))
qr = zxingcpp.create_barcode("https://qr.example/x", zxingcpp.BarcodeFormat.QRCode)
im.paste(Image.fromarray(np.asarray(zxingcpp.write_barcode_to_image(qr, scale=4))), (700, 80))
buf = io.BytesIO()
im.save(buf, "PNG")
flags = set()
parts = extract_image(buf.getvalue(), "image/png", "", ImageLimits(), flags)
print(",".join(f"{p.source}:{p.text}" for p in parts), *sorted(flags))
PY
)
echo "images=$ocr"
[ "$ocr" = "qr:https://qr.example/x,ocr:Verify your account" ] \
    || { echo "build-image: images not read as expected: '$ocr'" >&2; exit 1; }

# serve on loopback, from a fresh (empty) data folder as a new volume starts: seconds
# from the start to a 200 from /readyz.
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
start=$(date +%s.%N)
"${in_image[@]}" spamsift serve --host 127.0.0.1 --port "$port" --data-dir /tmp/data \
    >"$work/serve.log" 2>&1 &
serve=$!
ready=""
for _ in $(seq 600); do
    if python3 -c "import urllib.request, sys; urllib.request.urlopen('http://127.0.0.1:$port/readyz', timeout=2)" 2>/dev/null; then
        ready=$(python3 -c "print(round($(date +%s.%N) - $start, 1))")
        break
    fi
    kill -0 "$serve" 2>/dev/null || break
    sleep 0.1
done
# unshare ignores SIGTERM while it waits: stop its child, the server.
kill $(ps -o pid= --ppid "$serve") 2>/dev/null || true
wait "$serve" 2>/dev/null || true
if [ -z "$ready" ]; then
    echo "build-image: serve never answered /readyz; its log:" >&2
    cat "$work/serve.log" >&2
    exit 1
fi
echo "ready_s=$ready"
podman image inspect --format '{{json .Config.Healthcheck.Test}}' "$image" | grep -q readyz \
    || { echo "build-image: the image has no /readyz health check" >&2; exit 1; }
