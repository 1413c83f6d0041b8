#!/bin/bash
# summary.sh LOGDIR - one line per valgrind log of check.sh, then a verdict.
# Fails (exit 1) on any error, any definitely lost block, or a log without
# its ERROR SUMMARY (the process was killed before valgrind's leak check),
# unless that test kills its daemon with SIGKILL on purpose (KILLED below)
# or the process was a child forked to run another program.
set -u
D=${1:?usage: summary.sh LOGDIR}
# Tests whose daemons are killed with -9 by design: their logs stop short.
KILLED=" t_archive "
n=0 bad=0 cut=0 execd=0
for f in "$D"/*.log; do
	[ -f "$f" ] || continue
	n=$((n + 1))
	base=$(basename "$f" .log)
	test=${base%%.*}
	errs=$(sed -n 's/.*ERROR SUMMARY: \([0-9,]*\) errors.*/\1/p' "$f" | tail -1 | tr -d ,)
	def=$(sed -n 's/.*definitely lost: \([0-9,]*\) bytes.*/\1/p' "$f" | tail -1 | tr -d ,)
	if [ -z "$errs" ]; then
		# A child forked by a traced daemon that then ran another
		# program (the pinholes' exec back end): valgrind stops at the
		# exec (no --trace-children), its log is the header only.
		pp=$(sed -n 's/.*Parent PID: \([0-9]*\).*/\1/p' "$f")
		if [ -n "$pp" ] &&
		    ls "$D/$test".*."$pp".log >/dev/null 2>&1 &&
		    [ "$(grep -c '^==[0-9]*== [^ ]' "$f")" -le 5 ]; then
			execd=$((execd + 1))
			continue
		fi
		case $KILLED in
		*" $test "*) echo "killed  $base (SIGKILL by the test: no leak check)" ;;
		*) echo "CUT     $base: no ERROR SUMMARY (killed before the leak check?)"
		   cut=$((cut + 1)) ;;
		esac
		# Errors before the kill still count.
		if grep -q '^==[0-9]*== [A-Z].*\(Invalid\|uninitialised\|Mismatched\|overlap\)' "$f"; then
			echo "ERRORS  $base (before the kill)"
			bad=$((bad + 1))
		fi
		continue
	fi
	if [ "$errs" -ne 0 ] || [ "${def:-0}" -ne 0 ]; then
		echo "ERRORS  $base: $errs errors, definitely lost ${def:-0} bytes"
		bad=$((bad + 1))
	fi
done
echo "valgrind: $n processes ($execd forked children that ran another program), $bad with errors or definite leaks, $cut cut short"
[ "$n" -gt 0 ] && [ "$bad" -eq 0 ] && [ "$cut" -eq 0 ]
