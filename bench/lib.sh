# bench/lib.sh - the helpers the bench/*.sh scripts share, each written once.
# Sourced after the script has set TOP (the source tree):
#     TOP=$(cd "$(dirname "$0")/.." && pwd)
#     . "$TOP/bench/lib.sh"
# POSIX sh plus `local` (dash and bash both have it): the sh scripts
# source it too. Defines functions and nothing else; the scripts keep their
# own options, ports, configurations and tables.
# shellcheck shell=dash

# --- the tree, the work directory, the processes ---------------------------

# bench_build [DIR]: sets BUILD, where e2mproxyd and the layer libraries
# were built: DIR, else _build/ (out of tree, the usual), else the source
# tree when e2mproxyd was built in it. 1 when DIR is not a directory.
bench_build() {
	if [ -n "${1:-}" ]; then
		BUILD=$(cd "$1" && pwd) || return 1
	elif [ ! -d "$TOP/_build" ] && [ -x "$TOP/e2mproxyd" ]; then
		BUILD=$TOP
	else
		BUILD=$TOP/_build
	fi
	# shellcheck disable=SC2034 # for the scripts
	PROXY=$BUILD/e2mproxyd
}

# bench_workdir NAME [PARENT]: sets WORK to a fresh mktemp directory
# PARENT/NAME.XXXXXX (PARENT: $TMPDIR, else /tmp; a script that needs a
# real disk passes /var/tmp) and sets the EXIT trap that stops what
# bench_track recorded and deletes WORK (BENCH_KEEP=1 keeps it).
bench_workdir() {
	WORK=$(mktemp -d "${2:-${TMPDIR:-/tmp}}/$1.XXXXXX") || exit 1
	trap bench_cleanup EXIT
	# dash runs no EXIT trap on a signal; bash does: exit explicitly
	trap 'exit 130' INT
	trap 'exit 143' TERM
}

# bench_keep: true when BENCH_KEEP asks to keep the work directory (set
# and not 0: BENCH_KEEP=0 deletes it, as it reads)
bench_keep() { [ -n "${BENCH_KEEP:-}" ] && [ "$BENCH_KEEP" != 0 ]; }

BENCH_PIDS=
# bench_track PID: stop PID with bench_stop (and at exit)
bench_track() { BENCH_PIDS="$BENCH_PIDS $1"; }

# bench_stop: every tracked process stopped: SIGTERM, up to 5 s to exit,
# then SIGKILL (a proxy stuck in its shutdown must not load the next run)
bench_stop() {
	local p i
	for p in $BENCH_PIDS; do kill "$p" 2>/dev/null || :; done
	for p in $BENCH_PIDS; do
		i=0
		while [ $i -lt 50 ] && kill -0 "$p" 2>/dev/null; do
			sleep 0.1
			i=$((i + 1))
		done
		kill -9 "$p" 2>/dev/null || :
	done
	wait 2>/dev/null
	BENCH_PIDS=
}

# bench_cleanup: the EXIT trap of bench_workdir; a script with more to undo
# sets its own trap and calls this from it
bench_cleanup() {
	bench_stop
	[ -n "${WORK:-}" ] || return 0
	if bench_keep; then echo "kept $WORK" >&2; else rm -rf "$WORK"; fi
}

# bench_pin: PIN_PX and PIN_GEN, command prefixes: with BENCH_PIN=1 the
# proxy runs on CPU 0 and the load generators on CPU 1 (taskset), else
# empty (so unquoted: $PIN_PX "$PROXY" ...)
bench_pin() {
	PIN_PX='' PIN_GEN=''
	if [ -n "${BENCH_PIN:-}" ]; then PIN_PX="taskset -c 0" PIN_GEN="taskset -c 1"; fi
}

# bench_need_proxy: exit 1 unless e2mproxyd is built where bench_build
# looked
bench_need_proxy() {
	[ -x "$PROXY" ] || { echo "no $PROXY; build first" >&2; exit 1; }
}

# bench_need CMD...: exit 1 naming the first command not installed
bench_need() {
	local c
	for c in "$@"; do
		command -v "$c" > /dev/null || { echo "$c is not installed" >&2; exit 1; }
	done
}

# listening udp|tcp PORT: something listens on 127.0.0.1's PORT (ss)
listening() {
	if [ "$1" = udp ]; then ss -Hlnu "sport = :$2" | grep -q .
	else ss -Hlnt "sport = :$2" | grep -q .; fi
}

# wait_port udp|tcp PORT [PID]: wait up to 10 s (0.1 s polls) for a
# listener on PORT; 1 on timeout, or at once when PID has exited
wait_port() {
	local i=0
	while [ $i -lt 100 ]; do
		listening "$1" "$2" && return 0
		if [ -n "${3:-}" ] && ! kill -0 "$3" 2>/dev/null; then return 1; fi
		sleep 0.1
		i=$((i + 1))
	done
	return 1
}

# bench_cc OUT SRC LIB...: build bench/SRC.c with cc -O2 against the layer
# libraries LIB (paths under $BUILD/src, e.g. e2m/libe2mcore.a) and the
# project's pkg-config libraries
bench_cc() {
	local out=$1 src=$2 libs='' l
	shift 2
	for l in "$@"; do libs="$libs $BUILD/src/$l"; done
	# shellcheck disable=SC2046,SC2086
	cc -std=c11 -O2 -Wall -Wextra -I"$TOP/src" -I"$BUILD/src" \
		$(pkg-config --cflags sofia-sip-ua libevent libevent_pthreads libconfig libssl libcrypto) \
		-o "$out" "$TOP/bench/$src.c" $libs \
		$(pkg-config --libs sofia-sip-ua libevent libevent_pthreads libconfig libssl libcrypto) \
		-lpthread
}

# --- Kamailio and SIPp -----------------------------------------------------

# bench_scenario IN OUT USER CTYPE HDRS BODYFILE [STATUS]: the SIPp scenario
# IN written to OUT with the From/Contact user sipp renamed USER ("-" keeps
# it), the first request's Content-Type line and body replaced by CTYPE,
# the header lines HDRS (newline-separated, e.g. a label), a
# Content-Length and BODYFILE's text; STATUS (default 200) replaces the
# first 200 the scenario expects. Needs python3.
bench_scenario() {
	python3 - "$@" <<'PY'
import sys
src, out, user, ctype, hdrs, bodyf = sys.argv[1:7]
status = sys.argv[7] if len(sys.argv) > 7 else "200"
s = open(src).read()
if user != "-":
    s = s.replace("sip:sipp@", "sip:%s@" % user)
body = open(bodyf).read().rstrip("\n")
# the first request: its Content-Type line and body up to "]]>"
i = s.index("Content-Type:")
j = s.index("]]>", i)
lines = [l.strip() for l in hdrs.split("\n") if l.strip()]
s = s[:i] + "\n      ".join(["Content-Type: " + ctype] + lines +
    ["Content-Length: [len]"]) + "\n\n%s\n    " % body + s[j:]
if status != "200":
    s = s.replace('<recv response="200" crlf="true"/>',
        '<recv response="%s" crlf="true"/>' % status, 1)
open(out, "w").write(s)
PY
}

# kam_cfg TEMPLATE PORT OUT: bench/kamailio/TEMPLATE.cfg with its listener
# on 127.0.0.1:PORT and this machine's module directory, written to OUT
kam_cfg() {
	local mpath
	mpath=/usr/lib/$(gcc -dumpmachine 2>/dev/null || echo x86_64-linux-gnu)/kamailio/modules/
	[ -d "$mpath" ] || mpath=$(dirname "$(find /usr/lib -name tm.so -path '*kamailio*' | head -n 1)")/
	sed -e "s|@PORT@|$2|g" -e "s|@MPATH@|$mpath|g" "$TOP/bench/kamailio/$1.cfg" > "$3"
}

# kam_check CFG: exit 1 with Kamailio's complaint when kamailio -c refuses CFG
kam_check() {
	kamailio -c -f "$1" > "$1.check" 2>&1 ||
		{ echo "kamailio -c refuses $1:"; cat "$1.check"; exit 1; }
}

# kam_start CFG DIR: Kamailio in the foreground of a background job
# (-DD -E), its pid file and log in DIR, 512 MiB shared and 32 MiB private
# memory (a run's transactions fit); sets PROXY_PID and tracks it
kam_start() {
	$PIN_PX kamailio -f "$1" -DD -E -Y "$2" -P "$2/kam.pid" \
		-m 512 -M 32 > "$2/proxy.log" 2>&1 &
	PROXY_PID=$!
	bench_track "$PROXY_PID"
}

# sipp_version: "v3.6.1" and the like
sipp_version() { sipp -v 2>&1 | grep -o 'v[0-9.]*' | head -n 1; }

# rr_uas DIR PORT MPORT TRANSPORT KEY_TP: the SIPp UAS of bench/sipp/uas_rr.xml
# (benchmark.md section 1: 180, 5 ms, 200 echoing Record-Route) on
# 127.0.0.1:PORT, TRANSPORT SIPp's -t (u1, t1), KEY_TP the ";transport=..."
# of its Contact ("" for UDP); run from DIR, tracked, waited for
rr_uas() {
	(cd "$1" && exec $PIN_GEN sipp -sf "$TOP/bench/sipp/uas_rr.xml" -key tp "$5" \
		-i 127.0.0.1 -p "$2" -mp "$3" -t "$4" -buff_size 4194304 -nostdin \
		> uas.out 2>&1) &
	bench_track $!
	if [ "$4" = t1 ]; then wait_port tcp "$2" $!; else wait_port udp "$2" $!; fi
}

# --- measuring -------------------------------------------------------------

# tree PID: PID and its children, one a line (Kamailio's processes are
# the children of the first)
tree() {
	local s
	echo "$1"
	for s in /proc/[0-9]*/stat; do
		awk -v p="$1" '$4 == p { print $1 }' "$s" 2>/dev/null
	done
}

# ticks PID...: CPU time used, utime + stime from /proc/PID/stat summed, in
# clock ticks (getconf CLK_TCK a second); 0 for a process that is gone
ticks() {
	local p t=0 v
	for p in "$@"; do
		v=$(awk '{ print $14 + $15 }' "/proc/$p/stat" 2>/dev/null) || v=0
		t=$((t + ${v:-0}))
	done
	echo "$t"
}

# ms_per T0 T1 N: CPU ms per operation from ticks T0 to T1 over N
# operations, 3 decimals ("-" when N is 0)
ms_per() {
	awk -v a="$1" -v b="$2" -v n="$3" -v hz="$(getconf CLK_TCK)" \
		'BEGIN { if (n > 0) printf "%.3f", (b - a) * 1000 / hz / n; else print "-" }'
}

# pss PID...: proportional set size summed over the processes, KiB
# (smaps_rollup; VmRSS would count pages shared by Kamailio's children
# once per child)
pss() {
	local p
	for p in "$@"; do awk '/^Pss:/ { print $2 }' "/proc/$p/smaps_rollup" 2>/dev/null; done |
		awk '{ s += $1 } END { print s + 0 }'
}

# rss PID: VmRSS, KiB
rss() { awk '/^VmRSS/ { print $2 }' "/proc/$1/status"; }

# csvcol FILE N: column N of the last line of SIPp's -trace_stat CSV (16
# successful calls, 18 failed calls, 58 retransmissions; cumulative)
csvcol() { tail -n 1 "$1" 2>/dev/null | cut -d';' -f"$2"; }

# pct FILE RTD P: the P-th percentile (0-100, nearest rank) of response
# time RTD in SIPp's -trace_rtt file, ms, 1 decimal ("-" when none)
pct() {
	awk -F';' -v r="$2" '$3 == r { print $2 }' "$1" 2>/dev/null | sort -g |
		awk -v p="$3" '{ v[NR] = $1 } END { if (NR == 0) { print "-"; exit }
			i = int(NR * p / 100 + 0.999999); if (i < 1) i = 1
			printf "%.1f\n", v[i] }'
}

# kv KEY: the word after KEY in the "key value key value ..." line on
# stdin (bench/challenge_speed.c's output)
kv() { awk -v k="$1" '{ for (i = 1; i < NF; i++) if ($i == k) { print $(i + 1); exit } }'; }

# loadavg: the 1, 5 and 15 minute load averages
loadavg() { cut -d' ' -f1-3 /proc/loadavg; }

# now_utc: "2026-12-07 05:03 UTC"
now_utc() { date -u '+%Y-%m-%d %H:%M UTC'; }

# --- summarising runs ------------------------------------------------------

# median low|mean: the median of the numbers on stdin, one a line ("-"
# when none). Of an even count, "low" takes the lower middle one: a value
# one run really had (a count of calls stays a count); "mean" the mean of
# the two middle ones
median() {
	sort -g | awk -v m="$1" '{ v[NR] = $1 } END {
		if (NR == 0) print "-"
		else if (m == "mean" && NR % 2 == 0) print (v[NR / 2] + v[NR / 2 + 1]) / 2
		else print v[int((NR + 1) / 2)] }'
}

# med FILE C: the median of column C of FILE, a run a line ("-" skipped)
med() { awk -v c="$2" '$c != "-" { print $c }' "$1" | median low; }

# range FILE C: "min-max" of column C of FILE ("-" when none)
range() {
	awk -v c="$2" '$c != "-" { print $c }' "$1" | sort -g |
		awk 'NR == 1 { a = $1 } { b = $1 } END { if (NR) printf "%s-%s", a, b; else print "-" }'
}

# cleanruns FILE N: how many runs (lines) completed N calls with 0 failed
# (columns 1 and 2)
cleanruns() {
	awk -v n="$2" '$1 == n && $2 == 0 { c++ } END { print c + 0 }' "$1"
}

# maxclean MAX "RATES": the max clean rate as the tables print it: MAX
# (- for none) among the rates tried, "at least" when it is the last
maxclean() {
	local last
	last=$(echo "$2" | awk '{ print $NF }')
	if [ "$1" = - ]; then echo "below ${2%% *}/s"
	elif [ "$1" = "$last" ]; then echo ">= $1/s (the highest tried)"
	else echo "$1/s"; fi
}

# ratio A B: A / B, 2 decimals ("-" when either is "-" or B is 0)
ratio() {
	awk -v a="$1" -v b="$2" \
		'BEGIN { if (a == "-" || b == "-" || a == "" || b == "" || b == 0) print "-"; else printf "%.2f", a / b }'
}
