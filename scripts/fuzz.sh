#!/bin/bash
# fuzz.sh - run the libFuzzer harnesses (tests/fuzz/fuzz_NAME.c).
#
#   scripts/fuzz.sh [-t SECS] [-n RUNS] [NAME...]     explore
#   scripts/fuzz.sh --ci [NAME...]                    the CI verdict
#   scripts/fuzz.sh --import [NAME...]                bring findings back
#
# NAME is label, mime, cms, uachal, sdp, archive, e2mlog, stun, sipframe,
# sipdgram, sipstream or wirecopy (default: all). The harnesses are built in
# _build-fuzz/ (configured there with CC=clang --enable-fuzzing when it is
# not yet); -B DIR names another build tree.
#
# Explore (the default): open-ended search with a fresh random seed, until
# RUNS executions (-n, default 10000000) or SECS seconds (-t, default
# 3600), whichever comes first. Each fuzzer keeps a working corpus in
# _fuzz/NAME/ (started from the committed corpus and regression inputs,
# grown across runs) and writes what it finds to _fuzz/artifacts/NAME/.
# One line per run (date, command, executions, result) is appended to
# _fuzz/runs.log: docs/reliability.md records those of note. A finding
# exits 1. Findings are not CI's business until they are imported.
#
# --ci: the same verdict for the same commit, every time. Each fuzzer
# first runs every committed input (tests/fuzz/corpus/NAME and
# tests/fuzz/regressions/NAME), then explores from them with seed 1 for a
# fixed number of executions (CI_RUNS below), with address-space layout
# randomisation off (libFuzzer hashes code addresses into its comparison
# tables) and no corpus reloading (timed), so the inputs tried depend on
# the code alone. New inputs go to a temporary copy, never into the tree.
#
# --import: for each fuzzer, every artifact in _fuzz/artifacts/NAME
# (crash-, leak-, timeout-, oom-) is copied to tests/fuzz/regressions/NAME
# (fix what it found first: CI replays them all), and the working corpus
# is merged into tests/fuzz/corpus/NAME with -merge=1 (only inputs that
# add coverage are kept).
set -u
set -o pipefail

cd "$(dirname "$0")/.." || exit 2
ROOT=$(pwd -P)
ALL="label mime cms uachal sdp archive e2mlog stun sipframe sipdgram sipstream"
ALL+=" wirecopy"
# Executions per fuzzer in --ci: about 15-20 s each on the 2-core CI machine
# (the SIP framing ones about 10 s: they feed each input several ways).
declare -A CI_RUNS=([label]=600000 [mime]=600000 [cms]=50000 [uachal]=500000
	[sdp]=1000000 [archive]=170000 [e2mlog]=50000 [stun]=1000000
	[sipframe]=80000 [sipdgram]=200000 [sipstream]=40000 [wirecopy]=80000)
# Options every run shares: no input over 10 s, no more than 2 GiB.
COMMON=(-timeout=10 -rss_limit_mb=2048 -print_final_stats=1)

MODE=explore
BUILD=$ROOT/_build-fuzz
SECS=3600
RUNS=10000000
NAMES=()

usage() {
	awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' \
	    "$0"
}

while [ $# -gt 0 ]; do
	case $1 in
	--ci) MODE=ci ;;
	--import) MODE=import ;;
	-t) SECS=${2:?-t needs seconds}; shift ;;
	-n) RUNS=${2:?-n needs a count}; shift ;;
	-B) BUILD=${2:?-B needs a directory}; shift ;;
	-h | --help) usage; exit 0 ;;
	-*) echo "fuzz.sh: unknown option: $1" >&2; usage >&2; exit 2 ;;
	*)
		case " $ALL " in
		*" $1 "*) NAMES+=("$1") ;;
		*) echo "fuzz.sh: no fuzzer named $1 (have: $ALL)" >&2; exit 2 ;;
		esac
		;;
	esac
	shift
done
[ "${#NAMES[@]}" -gt 0 ] || read -r -a NAMES <<<"$ALL"

say() { printf 'fuzz.sh: %s\n' "$*"; }

# build: configure (once) and make the harnesses.
build() {
	local n targets=()
	for n in "${NAMES[@]}"; do
		targets+=("tests/fuzz/fuzz_$n")
	done
	if [ ! -f "$BUILD/Makefile" ]; then
		[ -f "$ROOT/configure" ] || (cd "$ROOT" && autoreconf -fi) ||
			return 1
		mkdir -p "$BUILD" && (cd "$BUILD" &&
		    "$ROOT/configure" CC=clang --enable-fuzzing >configure.out) ||
			return 1
	fi
	make -C "$BUILD" -j2 "${targets[@]}" >"$BUILD/fuzz-make.out" 2>&1 || {
		tail -n 30 "$BUILD/fuzz-make.out" >&2
		return 1
	}
}

# executions LOG: the number of inputs the run executed.
executions() {
	sed -n 's/^stat::number_of_executed_units: //p' "$1" | tail -n 1
}

# finding LOG: the first line of what libFuzzer reported, if anything.
finding() {
	grep -m1 -E '^==[0-9]+==ERROR|^SUMMARY: |deadly signal|ERROR: libFuzzer' "$1"
}

ci() { # NAME: exit status 0 when nothing was found
	local n=$1 h=$BUILD/tests/fuzz/fuzz_$1 work log rc aslr=()
	work=$(mktemp -d) || return 2
	log=$work/log
	mkdir -p "$work/corpus" &&
		cp -r "$ROOT/tests/fuzz/corpus/$n/." "$work/corpus/" || return 2
	if setarch "$(uname -m)" -R true 2>/dev/null; then
		aslr=(setarch "$(uname -m)" -R)
	else
		say "$n: cannot turn address randomisation off (setarch -R);" \
		    "replaying the committed inputs only"
	fi
	# 1. every committed input, as it is
	(cd "$work" && "$h" "${COMMON[@]}" -runs=0 "$work/corpus" \
	    "$ROOT/tests/fuzz/regressions/$n") >"$log" 2>&1
	rc=$?
	say "$n: replayed the committed inputs: $(executions "$log") executions, exit $rc"
	if [ "$rc" -eq 0 ] && [ "${#aslr[@]}" -gt 0 ]; then
		# 2. a fixed exploration
		(cd "$work" && "${aslr[@]}" "$h" "${COMMON[@]}" -seed=1 \
		    -runs="${CI_RUNS[$n]}" -reload=0 "$work/corpus" \
		    "$ROOT/tests/fuzz/regressions/$n") >>"$log" 2>&1
		rc=$?
		say "$n: seed 1, ${CI_RUNS[$n]} runs: $(executions "$log")" \
		    "executions, exit $rc; $(grep -E '^#[0-9]+[[:space:]]+DONE' \
		    "$log" | tail -n 1 | sed 's/^#[0-9]*[[:space:]]*//')"
	fi
	if [ "$rc" -ne 0 ]; then
		say "$n: FOUND: $(finding "$log")"
		tail -n 60 "$log"
		ls "$work"/crash-* "$work"/leak-* "$work"/timeout-* \
		    "$work"/oom-* 2>/dev/null | while read -r f; do
			say "$n: input (base64): $(base64 -w0 "$f")"
		done
	fi
	rm -rf "$work"
	return "$rc"
}

explore() { # NAME
	local n=$1 h=$BUILD/tests/fuzz/fuzz_$1 dir=$ROOT/_fuzz/$1
	local art=$ROOT/_fuzz/artifacts/$1 log seed rc cmd execs what t0=$SECONDS
	mkdir -p "$dir" "$art" || return 2
	cp -rn "$ROOT/tests/fuzz/corpus/$n/." "$dir/"
	seed=$(od -An -N4 -tu4 /dev/urandom | tr -d ' ')
	log=$ROOT/_fuzz/$n-$(date -u +%Y%m%dT%H%M%SZ).log
	cmd=("$h" "${COMMON[@]}" -seed="$seed" -runs="$RUNS"
	    -max_total_time="$SECS" -artifact_prefix="$art/" "$dir"
	    "$ROOT/tests/fuzz/regressions/$n")
	say "$n: ${cmd[*]#"$ROOT/"}"
	"${cmd[@]}" >"$log" 2>&1
	rc=$?
	execs=$(executions "$log")
	what=$(finding "$log")
	[ -n "$what" ] || what="nothing found"
	[ "$rc" -eq 0 ] || what="exit $rc: $what"
	say "$n: ${execs:-?} executions in $((SECONDS - t0)) s; $what; log $log"
	printf '%s\t%s\t-seed=%s -runs=%s -max_total_time=%s\t%s executions in %s s\t%s\n' \
	    "$(date -u +%FT%TZ)" "$n" "$seed" "$RUNS" "$SECS" "${execs:-?}" \
	    "$((SECONDS - t0))" "$what" >>"$ROOT/_fuzz/runs.log"
	return "$rc"
}

import() { # NAME
	local n=$1 h=$BUILD/tests/fuzz/fuzz_$1 f new=0 merged
	local art=$ROOT/_fuzz/artifacts/$n reg=$ROOT/tests/fuzz/regressions/$n
	mkdir -p "$reg"
	for f in "$art"/crash-* "$art"/leak-* "$art"/timeout-* "$art"/oom-*; do
		[ -f "$f" ] || continue
		cp -n "$f" "$reg/" && new=$((new + 1))
	done
	say "$n: $new artifact(s) copied to tests/fuzz/regressions/$n"
	[ -d "$ROOT/_fuzz/$n" ] || return 0
	merged=$(mktemp -d) || return 2
	cp -r "$ROOT/tests/fuzz/corpus/$n/." "$merged/"
	"$h" "${COMMON[@]}" -merge=1 "$merged" "$ROOT/_fuzz/$n" \
	    >"$ROOT/_fuzz/$n-merge.log" 2>&1 || {
		say "$n: merge failed, see _fuzz/$n-merge.log"
		rm -rf "$merged"
		return 1
	}
	for f in "$merged"/*; do
		[ -e "$ROOT/tests/fuzz/corpus/$n/${f##*/}" ] && continue
		cp "$f" "$ROOT/tests/fuzz/corpus/$n/" && new=$((new + 1))
	done
	rm -rf "$merged"
	say "$n: corpus now $(find "$ROOT/tests/fuzz/corpus/$n" -type f | wc -l) inputs"
}

build || { say "building the harnesses failed"; exit 2; }
status=0
for n in "${NAMES[@]}"; do
	case $MODE in
	ci) ci "$n" || status=1 ;;
	explore) explore "$n" || status=1 ;;
	import) import "$n" || status=1 ;;
	esac
done
exit "$status"
