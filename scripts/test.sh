#!/bin/bash
# test.sh - the one test command: dependencies, build, every test, twice.
#
#   sudo ./scripts/test.sh      from a fresh clone (root is needed only to
#                               install missing packages; as root, no sudo)
#
# Stages, in order; a failing stage does not stop the later ones unless
# they cannot run without it:
#   deps        scripts/deps.sh (apt-get; skipped by apt when all is there)
#   autoreconf  autoreconf -fi in the source tree
#   normal      _build/:      ../configure --enable-werror; make; make check
#   asan        _build-asan/: ../configure --enable-werror --enable-sanitizers
#               CC=gcc; make; make check, with ASan (leaks too) and UBSan
#               aborting on the first report. Every report of any of our
#               processes, daemons included, goes to
#               _build-asan/sanitizer-logs/TEST.{asan,ubsan}.EXE.PID, and
#               any such file fails the run (known leaks inside Debian's
#               libsofia-sip-ua TLS code are suppressed: see below)
#   demo        scripts/demo.sh, the README's main command (one test), and
#               tests/demo/port_taken.sh: it names a taken port (one test)
#   distcheck   make distcheck from _build/ (configure flag --enable-werror):
#               the tarball builds, installs and passes a sample of the
#               suite that uses every kind of file it ships (the whole
#               suite ran twice above), and has every file git tracks
#               (Makefile.am, DIST_SAMPLE_TESTS and distcheck-hook)
#   package     tests/pkg/t_deb.sh: the Debian package built from a copy of
#               the tree (dpkg-buildpackage), its contents, lintian, and an
#               install with dpkg into a throwaway view of this system
#   fuzz        _build-fuzz/ (clang, --enable-fuzzing): scripts/fuzz.sh --ci
#               for each libFuzzer harness: every committed corpus and
#               regression input, then seed 1 for a fixed number of runs
#               (the same verdict for the same commit)
#
# Every TAP result of the normal and the ASan test runs is counted from the
# .trs files automake writes; distcheck counts as one test, the sanitizer
# logs as one more, the package stage's TAP lines as tests (a skipped
# line, or a skipped plan, as a skipped test), and a stage that fails
# before any test could run
# (configure, build, ...) as one failed test. The last line printed is
#   N passed, N failed        (", N skipped" is added when N > 0)
# and the exit status is 0 only when nothing failed.
#
# Options:
#   --quick     only the normal build and test run (no ASan, no distcheck,
#               no package)
#   --no-deps   do not run scripts/deps.sh
#   -v          show the output of every stage as it runs (it always goes
#               to _build-logs/STAGE.log)
set -u
set -o pipefail

usage() {
	awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' \
	    "$0"
}

QUICK=0
DEPS=1
VERBOSE=0
for arg; do
	case $arg in
	--quick) QUICK=1 ;;
	--no-deps) DEPS=0 ;;
	-v | --verbose) VERBOSE=1 ;;
	-h | --help)
		usage
		exit 0
		;;
	*)
		echo "test.sh: unknown option: $arg" >&2
		usage >&2
		exit 2
		;;
	esac
done

cd "$(dirname "$0")/.." || exit 2
ROOT=$(pwd -P)
JOBS=2
LOGDIR=$ROOT/_build-logs
BUILD=$ROOT/_build
ASAN_BUILD=$ROOT/_build-asan
SANLOGS=$ASAN_BUILD/sanitizer-logs
FUZZ_BUILD=$ROOT/_build-fuzz
TAIL_LINES=80

# Results: totals, one summary row per stage, details printed at the end.
PASSED=0
FAILED=0
SKIPPED=0
ROWS=()
DETAILS=()     # files whose tail is shown before the summary
FAILED_TESTS=() # "FAIL: name N - description" lines

# Plain PASS:/FAIL: lines in the logs even where CI fakes a terminal.
export AM_COLOR_TESTS=no

rm -rf "$LOGDIR"
mkdir -p "$LOGDIR" || exit 2
START=$SECONDS

say() {
	printf '%s\n' "$*"
}

row() { # STAGE SECONDS RESULT
	ROWS+=("$(printf '%-22s %5s  %s' "$1" "$2" "$3")")
}

fail_one() { # STAGE WHY [LOG]: a stage failed where no TAP result tells
	FAILED=$((FAILED + 1))
	FAILED_TESTS+=("FAIL: $1: $2")
	[ -n "${3:-}" ] && DETAILS+=("$3")
}

# run ID DIR LIMIT CMD...: run CMD in DIR, output to $LOGDIR/ID.log, at most
# LIMIT seconds. Sets RC and SECS.
run() {
	local id=$1 dir=$2 limit=$3 t0=$SECONDS
	shift 3
	say "==> $id: $*"
	if [ "$VERBOSE" -eq 1 ]; then
		(cd "$dir" && exec timeout -k 30 "$limit" "$@") </dev/null 2>&1 |
			tee "$LOGDIR/$id.log"
	else
		(cd "$dir" && exec timeout -k 30 "$limit" "$@") </dev/null \
			>"$LOGDIR/$id.log" 2>&1
	fi
	RC=$?
	SECS=$((SECONDS - t0))
	if [ "$RC" -eq 124 ] || [ "$RC" -eq 137 ]; then
		echo "test.sh: $id: killed after $limit s" >>"$LOGDIR/$id.log"
	fi
	if [ "$RC" -eq 0 ]; then
		say "    ok ($SECS s)"
	else
		say "    FAILED, exit $RC ($SECS s); output in $LOGDIR/$id.log"
	fi
}

# one_test ID LIMIT CMD...: a command run from the top of the tree that
# counts as one test.
one_test() {
	local id=$1
	run "$id" "$ROOT" "$2" "${@:3}"
	reap_strays "$id"
	if [ "$RC" -eq 0 ]; then
		PASSED=$((PASSED + 1))
		row "$id" "$SECS" ok
	else
		row "$id" "$SECS" "FAILED (exit $RC)"
		fail_one "$id" "exit $RC" "$LOGDIR/$id.log"
	fi
}

# step ID DIR LIMIT CMD...: a stage that is not a test: counts only if it
# fails. Returns its exit status.
step() {
	local id=$1
	run "$@"
	if [ "$RC" -eq 0 ]; then
		row "$id" "$SECS" ok
	else
		row "$id" "$SECS" "FAILED (exit $RC)"
		fail_one "$id" "exit $RC" "$LOGDIR/$id.log"
	fi
	return "$RC"
}

# tree_procs: PIDs of the processes running one of this tree's build
# products (the daemon, a unit test), e.g. "123 456".
tree_procs() {
	local p exe found=
	for p in /proc/[0-9]*; do
		exe=$(readlink "$p/exe" 2>/dev/null) || continue
		case $exe in
		"$ROOT"/_build*) found="$found ${p#/proc/}" ;;
		esac
	done
	echo "$found"
}

# Processes left running by a test run hold the test ports and would break
# the next run: kill exactly those PIDs (not those that were running before
# this script started, such as a demo) and say so.
reap_strays() { # WHEN
	local p found=
	for p in $(tree_procs); do
		case " $EARLIER_PROCS " in
		*" $p "*) continue ;;
		esac
		found="$found $p"
		say "    WARNING: stray process $p after $1:" \
		    "$(tr '\0' ' ' <"/proc/$p/cmdline" 2>/dev/null)"
	done
	[ -n "$found" ] || return 0
	row "strays-$1" - "WARNING: killed left-over process(es):$found"
	# shellcheck disable=SC2086
	kill $found 2>/dev/null
	sleep 1
	# shellcheck disable=SC2086
	kill -9 $found 2>/dev/null
	return 0
}
EARLIER_PROCS=$(tree_procs)

# count_tests ID BUILDDIR: add the TAP results of BUILDDIR's .trs files
# (not those of a distcheck tree in it) to the totals.
count_tests() {
	local id=$1 dir=$2 out p f s trs
	local -a files
	mapfile -t files < <(find "$dir" -path "$dir/e2mproxy-*" -prune -o \
	    -name '*.trs' -print | sort)
	if [ "${#files[@]}" -eq 0 ]; then
		C_PASS=0 C_FAIL=0 C_SKIP=0
		return
	fi
	out=$(awk '
		FNR == 1 { bad = 0 }
		/^:test-result: / {
			r = $2
			if (r == "PASS" || r == "XFAIL") p++
			else if (r == "SKIP") s++
			else { f++; if (!bad++) print "BAD " FILENAME }
		}
		END { print "COUNT " p + 0, f + 0, s + 0 }' "${files[@]}")
	read -r _ p f s < <(grep '^COUNT ' <<<"$out")
	C_PASS=$p C_FAIL=$f C_SKIP=$s
	PASSED=$((PASSED + p))
	FAILED=$((FAILED + f))
	SKIPPED=$((SKIPPED + s))
	while read -r _ trs; do
		[ -n "$trs" ] && DETAILS+=("${trs%.trs}.log")
	done < <(grep '^BAD ' <<<"$out")
	while IFS= read -r f; do
		FAILED_TESTS+=("[$id] $f")
	done < <(grep -E '^(FAIL|XPASS|ERROR): ' "$LOGDIR/$id.log" 2>/dev/null)
}

# The integration tests use fixed ports (see t_init in
# tests/integration/lib.sh): another test run on this machine at the same
# time makes them fail. Say so up front.
check_ports() {
	local busy
	command -v ss >/dev/null 2>&1 || return 0
	local lo=$((21000 + ${E2M_TEST_PORT_OFFSET:-0}))
	local hi=$((lo + 500))
	busy=$(ss -Hltunp 2>/dev/null | awk -v lo="$lo" -v hi="$hi" '{
		n = split($5, a, ":"); p = a[n] + 0
		if (p >= lo && p < hi) print }')
	[ -z "$busy" ] && return 0
	say "    WARNING: test ports ($lo-$((hi - 1))) already in use; another" \
	    "test run? Expect failures:"
	say "$busy" | sed 's/^/      /'
}

# suite ID BUILDDIR [MAKE-ARGS...]: make check in BUILDDIR; count results.
suite() {
	local id=$1 dir=$2 res
	shift 2
	find "$dir" -path "$dir/e2mproxy-*" -prune -o -name '*.trs' \
	    -exec rm -f {} +
	check_ports
	run "$id" "$dir" 1800 make -j"$JOBS" check "$@"
	reap_strays "$id"
	count_tests "$id" "$dir"
	res="$C_PASS passed, $C_FAIL failed"
	[ "$C_SKIP" -eq 0 ] || res="$res, $C_SKIP skipped"
	if [ "$RC" -ne 0 ] && [ "$C_FAIL" -eq 0 ]; then
		# make failed but no test result says so: count that.
		res="$res; make check FAILED (exit $RC)"
		fail_one "$id" "make check exit $RC with no failed test" \
		    "$LOGDIR/$id.log"
	fi
	row "$id" "$SECS" "$res"
}

# build NAME DIR CONFIGURE-ARGS...: configure and build in DIR.
build() {
	local name=$1 dir=$2
	shift 2
	mkdir -p "$dir" || return 1
	step "configure-$name" "$dir" 600 ../configure "$@" || return 1
	step "build-$name" "$dir" 1200 make -j"$JOBS"
}

# sanitizer_logs: one test: passes when the ASan run wrote no report.
sanitizer_logs() {
	local f what ours
	local -a reports
	mapfile -t reports < <(find "$SANLOGS" -type f | sort)
	if [ "${#reports[@]}" -eq 0 ]; then
		PASSED=$((PASSED + 1))
		row sanitizer-logs - "clean"
		return
	fi
	FAILED=$((FAILED + 1))
	row sanitizer-logs - "FAILED: ${#reports[@]} report(s) in $SANLOGS"
	for f in "${reports[@]}"; do
		what=$(grep -m1 -E 'ERROR: |runtime error' "$f" |
			sed 's/^==[^ ]*==//')
		ours=$(grep -m1 -E '^ +#[0-9]+ .* \.\./(src|tests)/' "$f" |
			sed 's/^ *#[0-9]* 0x[0-9a-f]* in //')
		FAILED_TESTS+=("FAIL: sanitizer: ${f##*/}: $what${ours:+; first frame of ours: $ours}")
	done
	for f in "${reports[@]}"; do
		DETAILS+=("head:$f")
	done
}

# tap_stage ID LIMIT CMD...: a TAP test run outside make check, from the
# top of the tree; each "ok"/"not ok" line counts as a test ("# SKIP": as
# skipped), a plan "1..0 # SKIP why" as one skipped test. A plan that does
# not match the lines, or a failing exit with no failed line, is a failure.
tap_stage() {
	local id=$1 out p f s n plan res
	run "$id" "$ROOT" "$2" "${@:3}"
	out=$(awk '
		/^ok / { if ($0 ~ /# [Ss][Kk][Ii][Pp]/) s++; else p++; n++ }
		/^not ok / { f++; n++; print "FAIL: " $0 }
		/^1\.\.[0-9]+/ { plan = $0 }
		END {
			if (plan ~ /^1\.\.0 # [Ss][Kk][Ii][Pp]/) s++
			sub(/ .*/, "", plan); sub(/^1\.\./, "", plan)
			print "COUNT " p + 0, f + 0, s + 0, n + 0, (plan == "" ? -1 : plan)
		}' "$LOGDIR/$id.log")
	read -r _ p f s n plan < <(grep '^COUNT ' <<<"$out")
	PASSED=$((PASSED + p))
	FAILED=$((FAILED + f))
	SKIPPED=$((SKIPPED + s))
	while IFS= read -r line; do
		[ -n "$line" ] && FAILED_TESTS+=("[$id] $line")
	done < <(grep '^FAIL: ' <<<"$out")
	[ "$f" -eq 0 ] || DETAILS+=("$LOGDIR/$id.log")
	res="$p passed, $f failed"
	[ "$s" -eq 0 ] || res="$res, $s skipped"
	if [ "$plan" -ne "$n" ]; then
		res="$res; TAP plan ${plan/#-1/missing} for $n lines"
		fail_one "$id" "TAP plan ${plan/#-1/missing} for $n result lines (exit $RC)" \
		    "$LOGDIR/$id.log"
	elif [ "$RC" -ne 0 ] && [ "$f" -eq 0 ]; then
		res="$res; exit $RC"
		fail_one "$id" "exit $RC with no failed test" "$LOGDIR/$id.log"
	fi
	row "$id" "$SECS" "$res"
}

# --- deps
if [ "$DEPS" -eq 1 ]; then
	step deps "$ROOT" 1800 sh "$ROOT/scripts/deps.sh"
fi

# --- autoreconf
if [ -f "$ROOT/config.status" ]; then
	say "==> the source tree is configured in place ($ROOT/config.status);"
	say "    run 'make distclean' there: out-of-tree builds refuse it"
	row autoreconf 0 "FAILED (source tree configured in place)"
	fail_one autoreconf "source tree configured in place"
	AUTORECONF_OK=0
elif step autoreconf "$ROOT" 600 autoreconf -fi; then
	AUTORECONF_OK=1
else
	AUTORECONF_OK=0
fi

if [ "$AUTORECONF_OK" -eq 1 ]; then
	# --- normal build and tests
	build normal "$BUILD" --enable-werror &&
		suite check-normal "$BUILD"
	NORMAL_CONFIGURED=$([ -f "$BUILD/Makefile" ] && echo 1 || echo 0)

	# --- the README's main command runs its whole loop (one test)
	if [ "$NORMAL_CONFIGURED" -eq 1 ]; then
		one_test demo 180 ./scripts/demo.sh
		# ... and says so when the SIP port is taken on the host
		one_test demo-port-taken 120 bash tests/demo/port_taken.sh
	fi

	if [ "$QUICK" -eq 0 ]; then
		# --- the same under AddressSanitizer + UBSan, built by gcc.
		# Every report goes to a file named after the test, also those
		# of processes whose exit status no test looks at (a daemon
		# stopped by a signal, a detached one): any file there fails.
		rm -rf "$SANLOGS"
		mkdir -p "$SANLOGS" || exit 2
		# Leaks inside Debian's libsofia-sip-ua 1.12.11 TLS code that
		# our code cannot free: tls_free() never calls SSL_free() (the
		# SSL object of every TLS connection leaks, and with it its
		# buffers), and tls_connect()'s certificate check leaks the
		# decoded subjectAltName. Only allocations made under those
		# library functions are suppressed.
		printf '%s\n' "leak:tls_init_secondary" "leak:tls_connect" \
			>"$ASAN_BUILD/lsan.supp"
		export ASAN_OPTIONS="detect_leaks=1:abort_on_error=1:fast_unwind_on_malloc=0:log_exe_name=1"
		export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"
		export LSAN_OPTIONS="suppressions=$ASAN_BUILD/lsan.supp:print_suppressions=0"
		if build asan "$ASAN_BUILD" --enable-werror \
		    --enable-sanitizers CC=gcc; then
			# shellcheck disable=SC2016 # make expands $(@F...)
			suite check-asan "$ASAN_BUILD" "TESTS_ENVIRONMENT=\
ASAN_OPTIONS=\"\$\$ASAN_OPTIONS:log_path=$SANLOGS/\$(@F:.log=).asan\"; \
export ASAN_OPTIONS; \
UBSAN_OPTIONS=\"\$\$UBSAN_OPTIONS:log_path=$SANLOGS/\$(@F:.log=).ubsan\"; \
export UBSAN_OPTIONS;"
			sanitizer_logs
		fi
		unset ASAN_OPTIONS UBSAN_OPTIONS LSAN_OPTIONS

		# --- distcheck: a tarball that builds and passes its tests
		if [ "$NORMAL_CONFIGURED" -eq 1 ]; then
			run distcheck "$BUILD" 2400 make -j"$JOBS" distcheck \
			    DISTCHECK_CONFIGURE_FLAGS=--enable-werror
			reap_strays distcheck
			if [ "$RC" -eq 0 ]; then
				PASSED=$((PASSED + 1))
				row distcheck "$SECS" ok
			else
				row distcheck "$SECS" "FAILED (exit $RC)"
				fail_one distcheck "exit $RC" \
				    "$LOGDIR/distcheck.log"
			fi
		else
			row distcheck - "not run: _build is not configured"
			fail_one distcheck "not run: _build is not configured"
		fi
	fi
fi

# --- package: the Debian package, built from a copy of the tree's files
# (never in it) and installed in a throwaway overlay of this system; its
# TAP lines count as tests. 2 to 4 minutes on two busy cores.
if [ "$QUICK" -eq 0 ]; then
	tap_stage package 1200 env TOP_SRCDIR="$ROOT" bash tests/pkg/t_deb.sh
fi

# --- fuzz: scripts/fuzz.sh --ci for each libFuzzer harness: the committed
# corpus and regression inputs, then a fixed exploration (seed 1, a fixed
# number of runs, no address randomisation): the same verdict for the same
# commit, every time. One test each. Open-ended fuzzing is scripts/fuzz.sh
# without --ci, outside CI.
if [ "$QUICK" -eq 0 ]; then
	if build fuzz "$FUZZ_BUILD" CC=clang --enable-fuzzing; then
		for h in "$FUZZ_BUILD"/tests/fuzz/fuzz_*; do
			[ -x "$h" ] || continue
			name=${h##*/fuzz_}
			run "fuzz-$name" "$ROOT" 600 "$ROOT/scripts/fuzz.sh" --ci \
			    -B "$FUZZ_BUILD" "$name"
			if [ "$RC" -eq 0 ]; then
				PASSED=$((PASSED + 1))
				row "fuzz-$name" "$SECS" ok
			else
				row "fuzz-$name" "$SECS" "FAILED (exit $RC)"
				fail_one "fuzz-$name" "exit $RC" "$LOGDIR/fuzz-$name.log"
			fi
		done
	fi
fi

# --- report
if [ "${#DETAILS[@]}" -gt 0 ]; then
	say ""
	say "================ failure details ================"
	for f in "${DETAILS[@]}"; do
		say ""
		case $f in
		head:*) # a sanitizer report: where it starts matters
			f=${f#head:}
			say "---- $f (first $TAIL_LINES lines)"
			head -n "$TAIL_LINES" "$f"
			;;
		*)
			say "---- $f (last $TAIL_LINES lines)"
			if [ -f "$f" ]; then
				tail -n "$TAIL_LINES" "$f"
			else
				say "(missing)"
			fi
			;;
		esac
	done
fi
say ""
say "================ summary ================"
say "$(printf '%-22s %5s  %s' stage secs result)"
for r in "${ROWS[@]}"; do
	say "$r"
done
say "$(printf '%-22s %5s' total $((SECONDS - START)))"
say "logs: $LOGDIR"
if [ "${#FAILED_TESTS[@]}" -gt 0 ]; then
	say ""
	say "failed:"
	for f in "${FAILED_TESTS[@]}"; do
		say "  $f"
	done
fi
say ""
if [ "$SKIPPED" -gt 0 ]; then
	say "$PASSED passed, $FAILED failed, $SKIPPED skipped"
else
	say "$PASSED passed, $FAILED failed"
fi
[ "$FAILED" -eq 0 ]
