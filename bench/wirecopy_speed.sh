#!/bin/sh
# wirecopy_speed.sh [N] [BUILD_DIR] - the cost of forwarding the received
# bytes (proxyd/wirecopy.c) against Sofia's msg_dup(): N copies of a
# benchmark INVITE each (default 450000), alternating rounds, one core.
# Needs cc, pkg-config and sofia-sip-ua's headers; BUILD_DIR (default
# _build/) for config.h. A benchmark: prints figures, fails only when the
# program cannot be built or a copy fails.
set -eu
TOP=$(cd "$(dirname "$0")/.." && pwd)
. "$TOP/bench/lib.sh"
N=${1:-450000}
bench_build "${2:-}"
bench_workdir e2m-wirecopy
OUT=$WORK/wirecopy_speed
# shellcheck disable=SC2046
cc -std=c11 -O2 -Wall -Wextra -I"$TOP/src" -I"$BUILD/src" \
	$(pkg-config --cflags sofia-sip-ua) -o "$OUT" "$TOP/bench/wirecopy_speed.c" \
	"$TOP/src/proxyd/wirecopy.c" "$TOP/src/common/buf.c" \
	"$TOP/src/common/sipstream.c" "$TOP/src/common/sipdgram.c" \
	$(pkg-config --libs sofia-sip-ua)
echo "# wirecopy_speed.sh: $(now_utc), load average $(loadavg)"
"$OUT" "$N"
