#!/bin/sh
# run.sh - "e2mproxyd -c" on every sample configuration; TAP on stdout.
#
# good/*.conf and the shipped conf/e2mproxyd.conf must pass: exit 0 and
# "configuration OK" on stdout. bad/NAME.conf must fail: exit 1 and stderr
# exactly bad/NAME.expect, where @FILE@ stands for the path given to -f
# and @DIR@ for its directory. -c loads the keys and certificates as a
# start would, so the samples name them relative to themselves (pki/):
# each runs from a copy beside a throwaway PKI made here.

here=$(cd "$(dirname "$0")" && pwd) || exit 1
top=$(cd "${TOP_SRCDIR:-$here/../..}" && pwd) || exit 1

if [ -z "$E2MPROXYD" ] || [ ! -x "$E2MPROXYD" ]; then
	echo "Bail out! E2MPROXYD must name the e2mproxyd binary"
	exit 1
fi

tmp=$(mktemp -d "${TMPDIR:-/tmp}/conf-run.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT
trap 'exit 1' HUP INT TERM

n=0
failed=0

pass() {
	n=$((n + 1))
	echo "ok $n - $1"
}

fail() {
	n=$((n + 1))
	failed=$((failed + 1))
	echo "not ok $n - $1"
}

# Indent a file as TAP diagnostics.
diag() {
	sed 's/^/#   /' "$1"
}

# @FILE@, @DIR@ -> the path and its directory, literally: sed would read
# "&", "|" or "\" in them.
expand_expect() {
	FILE=$2 DIR=$(dirname "$2") awk '{
		out = ""
		while (match($0, /@(FILE|DIR)@/)) {
			out = out substr($0, 1, RSTART - 1) \
			    ENVIRON[substr($0, RSTART + 1, RLENGTH - 2)]
			$0 = substr($0, RSTART + RLENGTH)
		}
		print out $0
	}' "$1"
}

check_good() {
	f=$1
	"$E2MPROXYD" -c -f "$f" >"$tmp/out" 2>"$tmp/err"
	rc=$?
	if [ "$rc" -eq 0 ] && grep -q "configuration OK" "$tmp/out"; then
		pass "accepted: ${f#"$tmp"/}"
		return
	fi
	fail "accepted: ${f#"$tmp"/}"
	echo "#   exit status $rc, stdout:"
	diag "$tmp/out"
	echo "#   stderr:"
	diag "$tmp/err"
}

check_bad() {
	f=$1
	expect=${f%.conf}.expect
	if [ ! -s "$expect" ]; then
		fail "refused: ${f#"$tmp"/}"
		echo "#   $expect is missing or empty"
		return
	fi
	expand_expect "$expect" "$f" >"$tmp/want"
	"$E2MPROXYD" -c -f "$f" >"$tmp/out" 2>"$tmp/err"
	rc=$?
	if [ "$rc" -eq 1 ] && cmp -s "$tmp/want" "$tmp/err"; then
		pass "refused: ${f#"$tmp"/}"
		return
	fi
	fail "refused: ${f#"$tmp"/}"
	[ "$rc" -eq 1 ] || echo "#   exit status $rc, want 1"
	if ! cmp -s "$tmp/want" "$tmp/err"; then
		echo "#   stderr differs (-want +got):"
		diff -u "$tmp/want" "$tmp/err" | sed 's/^/#   /'
	fi
}

# The shipped file names the proxy's keys relative to itself (pki/):
# beside a throwaway PKI it is accepted; without one, every missing file
# is named at its line and the file is refused.
mkdir -p "$tmp/shipped" "$tmp/bare"
cp "$top/conf/e2mproxyd.conf" "$tmp/shipped/" && cp "$top/conf/e2mproxyd.conf" "$tmp/bare/"
if "$top/scripts/e2m-pki.sh" "$tmp/shipped/pki" >"$tmp/pki.out" 2>&1; then
	check_good "$tmp/shipped/e2mproxyd.conf"
else
	fail "throwaway PKI for the shipped configuration"
	diag "$tmp/pki.out"
fi
"$E2MPROXYD" -c -f "$tmp/bare/e2mproxyd.conf" >"$tmp/out" 2>"$tmp/err"
rc=$?
if [ "$rc" -eq 1 ] && [ "$(grep -c "^$tmp/bare/e2mproxyd.conf:[0-9]*: .*cannot read \"$tmp/bare/pki/" "$tmp/err")" -eq 5 ]; then
	pass "shipped configuration without its pki/: the 5 missing files named"
else
	fail "shipped configuration without its pki/: the 5 missing files named"
	diag "$tmp/err"
fi
for kind in good bad; do
	mkdir -p "$tmp/$kind"
	ln -s "$tmp/shipped/pki" "$tmp/$kind/pki"
	for f in "$here"/$kind/*.conf; do
		cp "$f" "$tmp/$kind/"
		[ "$kind" = bad ] && cp "${f%.conf}.expect" "$tmp/$kind/" 2>/dev/null
		check_$kind "$tmp/$kind/$(basename "$f")"
	done
done

echo "1..$n"
[ "$failed" -eq 0 ]
