#!/bin/bash
# replay.sh - every committed fuzz input, the seed corpus and the inputs
# that once failed (tests/fuzz/regressions: crashes, leaks), through its
# harness's LLVMFuzzerTestOneInput() built by the compiler of this build
# (replay_NAME): in "make check" of the normal build and again under
# ASan+UBSan, with no fuzzer and no randomness. One test per directory.
set -u
: "${E2M_BUILDDIR:?E2M_BUILDDIR must name the build tree}"
: "${TOP_SRCDIR:?TOP_SRCDIR must name the source tree}"
n=0 failed=0
for name in label mime cms uachal sdp archive e2mlog stun sipframe sipdgram \
    sipstream wirecopy; do
	for kind in corpus regressions; do
		dir=$TOP_SRCDIR/tests/fuzz/$kind/$name
		n=$((n + 1))
		out=$("$E2M_BUILDDIR/tests/fuzz/replay_$name" "$dir" 2>&1)
		rc=$?
		count=$(sed -n 's/^ok 1 - .*: \([0-9]*\) inputs\{0,1\} replayed$/\1/p' <<<"$out")
		if [ "$rc" -eq 0 ] && [ -n "$count" ] && grep -qx '1..1' <<<"$out"; then
			echo "ok $n - $name $kind: $count inputs replayed"
		else
			failed=$((failed + 1))
			echo "not ok $n - $name $kind: replay_$name exit $rc"
			sed 's/^/# /' <<<"$out" | tail -n 40
		fi
	done
done
echo "1..$n"
[ "$failed" -eq 0 ]
