#!/bin/sh
# wirecopy_speed.sh [N] [BUILD_DIR] - the cost of forwarding the received
# bytes (proxyd/wirecopy.c) against Sofia's msg_dup(): N copies of a
# benchmark INVITE each (default 450000), alternating rounds, one core.
# Needs cc, pkg-config and sofia-sip-ua's headers; BUILD_DIR (default
# _build/) for config.h. A benchmark: prints figures, fails only when the
# program cannot be built or a copy fails.
set -eu
TOP=$(cd "$(dirname "$0")/.." && pwd)
N=${1:-450000}
BUILD=${2:-$TOP/_build}
OUT=$(mktemp "${TMPDIR:-/tmp}/e2m-wirecopy.XXXXXX")
trap 'rm -f "$OUT"' EXIT
# shellcheck disable=SC2046
cc -std=c11 -O2 -Wall -Wextra -I"$TOP/src" -I"$BUILD/src" \
	$(pkg-config --cflags sofia-sip-ua) -o "$OUT" "$TOP/bench/wirecopy_speed.c" \
	"$TOP/src/proxyd/wirecopy.c" "$TOP/src/common/buf.c" $(pkg-config --libs sofia-sip-ua)
echo "# wirecopy_speed.sh: $(date -u '+%Y-%m-%d %H:%M UTC'), load average $(cut -d' ' -f1-3 /proc/loadavg)"
"$OUT" "$N"
