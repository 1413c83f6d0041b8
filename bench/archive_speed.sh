#!/bin/sh
# archive_speed.sh [-n RECORDS] [-s SECS] [-d DIR] [BUILD_DIR] - the IM
# archive writer on this machine's disk: records a second with group
# commit (one writev and one fdatasync per batch, archwriter's defaults:
# up to 256 records, 5 ms) against one fdatasync per record (max_batch 1),
# and the submit -> durable latency of each, at full load and paced.
#
# Builds bench/archive_speed.c with cc -O2 against BUILD_DIR (default
# _build: its layer libraries), writes to a fresh file in a mktemp
# directory under DIR (default /var/tmp: a real disk; /tmp may be tmpfs,
# where fdatasync costs nothing) and deletes it. Runs, each one file:
#   group    RECORDS (default 20000) as fast as a queue of 1024 takes them
#   single   the same with max_batch 1, submitting for at most SECS
#            (default 10)
#   paced    group commit at 1000 records a second for 3 s: the latency
#            one MESSAGE waits when the disk keeps up
#   paced-w1 the same with max_wait_ms 1 instead of 5
#   paced1   the same with one fdatasync per record
# A benchmark, not a test: it prints figures and fails only when a record
# was not written.
set -eu

n=20000
secs=10
dir=/var/tmp
while getopts n:s:d: opt; do
	case $opt in
	n) n=$OPTARG ;;
	s) secs=$OPTARG ;;
	d) dir=$OPTARG ;;
	*) echo "usage: $0 [-n RECORDS] [-s SECS] [-d DIR] [BUILD_DIR]" >&2; exit 2 ;;
	esac
done
shift $((OPTIND - 1))

TOP=$(cd "$(dirname "$0")/.." && pwd)
. "$TOP/bench/lib.sh"
bench_build "${1:-}"
libs="$BUILD/src/services/libe2msvc.a $BUILD/src/common/libe2mcommon.a"
[ -f "$BUILD/src/services/libe2msvc.a" ] || {
	echo "archive_speed.sh: no $BUILD/src/services/libe2msvc.a (run make there)" >&2
	exit 1
}
bench_workdir archive_speed "$dir"
work=$WORK

# shellcheck disable=SC2086
cc -std=c11 -O2 -Wall -Wextra -D_GNU_SOURCE -I"$TOP/src" -I"$BUILD/src" \
	-o "$work/archive_speed" "$TOP/bench/archive_speed.c" $libs -lpthread

echo "archive_speed: $(df -P "$work" | awk 'NR == 2 { print $1 }') ($(stat -f -c %T "$work")) under $dir, $(nproc) CPUs"
run() { # NAME ARGS...
	name=$1
	shift
	line=$("$work/archive_speed" -p "$work/$name.jsonl" "$@") || {
		echo "archive_speed.sh: $name failed: $line" >&2
		exit 1
	}
	echo "$name $line"
}
{
	run group -n "$n" -q 1024
	run single -n "$n" -q 1024 -b 1 -t "$secs"
	run paced -n 3000 -r 1000
	run paced-w1 -n 3000 -r 1000 -w 1
	run paced1 -n 3000 -r 1000 -b 1
} > "$work/results"
awk '
function f(k) { for (i = 2; i < NF; i++) if ($i == k) return $(i + 1); return "-" }
BEGIN { printf "%-8s %9s %8s %8s %10s %9s %9s %9s %9s\n", "run", "records", "batches", "secs", "records/s", "rec/batch", "p50 ms", "p99 ms", "max ms" }
{ printf "%-8s %9s %8s %8s %10s %9s %9s %9s %9s\n", $1, f("records"), f("batches"), f("seconds"), f("rate"), f("per_batch"), f("lat_p50_ms"), f("lat_p99_ms"), f("lat_max_ms") }
' "$work/results"
awk '$1 == "group" { g = $0 } $1 == "single" { s = $0 }
function f(l, k,   a, i, n) { n = split(l, a, " "); for (i = 2; i < n; i++) if (a[i] == k) return a[i + 1] }
END { printf "group commit / one fdatasync per record: %.1f times the records a second; %s bytes a record\n", f(g, "rate") / f(s, "rate"), f(g, "bytes_per_record") }' "$work/results"
