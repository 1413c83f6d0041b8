#!/bin/bash
# check.sh - integration tests with e2mproxyd and e2mua under valgrind
# memcheck; "make check-valgrind" from the build directory runs it.
#
#   tests/valgrind/check.sh BUILD_DIR [TEST...]
#
# Each binary is replaced, for the tests only, by a wrapper in
# BUILD_DIR/valgrind/bin that execs valgrind on it (exec: the PID a test
# holds is valgrind's, which passes signals on to the program). Every
# process writes its own log, BUILD_DIR/valgrind/logs/TEST.PROG.PID.log
# (E2M_VG_DIR instead of BUILD_DIR/valgrind: emptied first)
# (a daemon's forked child gets its own). The waits of lib.sh are
# stretched by E2M_WAIT_SCALE (default 10 here): a daemon starts in
# seconds under valgrind and its leak check at exit takes seconds more.
# summary.sh then reads every log: any error or definitely lost block
# fails the run, as does a log cut short (a process killed before its
# leak check), except where a test kills on purpose (kill -9 tests,
# listed in summary.sh). Suppressions: tests/valgrind/e2m.supp, each
# with its reason. An e2mproxyd linked with jemalloc (configure
# --with-jemalloc) has its malloc replaced all the same (--soname-synonyms).
set -u
B=$(cd "${1:?usage: check.sh BUILD_DIR [TEST...]}" && pwd) || exit 2
shift
SRC=$(cd "$(dirname "$0")/../.." && pwd)
command -v valgrind >/dev/null || { echo "valgrind is not installed" >&2; exit 2; }
VG=${E2M_VG_DIR:-$B/valgrind}
rm -rf "$VG"
mkdir -p "$VG/bin" "$VG/logs" || exit 2
for p in e2mproxyd e2mua; do
	cat > "$VG/bin/$p" <<WRAP
#!/bin/sh
# valgrind memcheck around $B/$p (made by tests/valgrind/check.sh)
exec valgrind --tool=memcheck -s --leak-check=full --show-leak-kinds=definite \\
	'--soname-synonyms=somalloc=*jemalloc*' \\
	--errors-for-leak-kinds=definite --error-exitcode=98 --num-callers=40 \\
	--suppressions=$SRC/tests/valgrind/e2m.supp \\
	--log-file="$VG/logs/\${E2M_VG_TEST:-run}.$p.%p.log" \\
	"$B/$p" "\$@"
WRAP
	chmod +x "$VG/bin/$p"
done
TESTS=${*:-}
[ -n "$TESTS" ] || { echo "check.sh: no tests named" >&2; exit 2; }
# TESTS_ENVIRONMENT comes after the Makefile's AM_TESTS_ENVIRONMENT: it
# overrides E2MPROXYD and E2MUA. $(@F:.log=) is the test's name.
# shellcheck disable=SC2016 # make expands $(@F...)
make -C "$B" check TESTS="$TESTS" TESTS_ENVIRONMENT="\
E2MPROXYD=$VG/bin/e2mproxyd; export E2MPROXYD; \
E2MUA=$VG/bin/e2mua; export E2MUA; \
E2M_VG_TEST=\$(@F:.log=); export E2M_VG_TEST; \
E2M_VALGRIND=1; export E2M_VALGRIND; \
E2M_WAIT_SCALE=${E2M_WAIT_SCALE:-10}; export E2M_WAIT_SCALE;"
rc=$?
"$SRC/tests/valgrind/summary.sh" "$VG/logs"
src=$?
echo "tests: make check exit $rc; valgrind summary exit $src"
[ $rc -eq 0 ] && [ $src -eq 0 ]
