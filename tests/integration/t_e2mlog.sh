#!/bin/bash
# e2mlog, the archive reader: each filter (user, peer, time, Call-ID,
# kind), the summary with the final status joined to its message, across
# rotated files in either order, malformed lines reported and skipped,
# text made safe for a terminal, standard input, usage errors. Archives
# are written by tests/tools/archgen (the real formatter and writer). No
# network: this test uses no ports.
set -u
: "${E2MLOG:?E2MLOG must name the e2mlog binary}"
: "${E2M_BUILDDIR:?E2M_BUILDDIR must name the build tree}"
ARCHGEN=$E2M_BUILDDIR/tests/tools/archgen
WORK=$(mktemp -d "${TMPDIR:-/tmp}/e2m-e2mlog.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
N=0 FAILED=0

ok() { # STATUS NAME
	N=$((N + 1))
	if [ "$1" -eq 0 ]; then
		echo "ok $N - $2"
	else
		FAILED=$((FAILED + 1))
		echo "not ok $N - $2"
	fi
}

# ids: kind:call-id of each record on stdin, in order, on one line
# (a record has "kind" before "call_id").
ids() {
	sed -n 's/.*"kind":"\([a-z]*\)".*"call_id":"\([^"]*\)".*/\1:\2/p' |
		paste -sd' '
}

# expect NAME WANT E2MLOG-ARGS...: the records printed, as kind:call-id.
expect() {
	local name=$1 want=$2 got
	shift 2
	got=$("$E2MLOG" "$@" 2>"$WORK/err" | ids)
	[ "$got" = "$want" ]
	ok $? "$name"
	[ "$got" = "$want" ] || echo "# got '$got', want '$want'"
}

A=$WORK/archive.jsonl
TAB=$(printf '\t')
# M TIME CALL-ID CSEQ FROM TO SOURCE TEXT / F TIME CALL-ID CSEQ STATUS
sed "s/|/$TAB/g" > "$WORK/spec" <<'SPEC'
M|2026-12-06T16:10:00.123Z|c1|1|sip:alice@atlanta.example.com|sip:bob@biloxi.example.com|192.0.2.4|Hello Bob\nhow are you?
F|2026-12-06T16:10:00.200Z|c1|1|200
M|2026-12-06T17:00:00Z|c2|1|sip:bob@biloxi.example.com|sip:carol@chicago.example.com|2001:db8::5|bin
M|2026-12-07T09:00:00Z|c3|7|sips:carol@chicago.example.com|sip:alice@atlanta.example.com;transport=tcp|198.51.100.7|-
F|2026-12-07T09:00:01Z|c3|7|486
F|2026-12-07T09:00:02Z|orphan|1|408
SPEC
"$ARCHGEN" "$A" < "$WORK/spec"
ok $? "archgen wrote an archive of 6 records"

# --- no filter: everything, unchanged
"$E2MLOG" "$A" > "$WORK/all" 2>"$WORK/err"
[ $? -eq 0 ] && cmp -s "$A" "$WORK/all" && [ ! -s "$WORK/err" ]
ok $? "no filter: every record printed unchanged, byte for byte, exit 0"

# --- users
expect "-u alice: her messages (From or To) and their finals" \
	"message:c1 final:c1 message:c3 final:c3" -u alice "$A"
expect "-u alice@ATLANTA.example.com: user@host, host in any case" \
	"message:c1 final:c1 message:c3 final:c3" -u alice@ATLANTA.example.com "$A"
expect "-u sip:bob@biloxi.example.com: the whole URI" \
	"message:c1 final:c1 message:c2" -u sip:bob@biloxi.example.com "$A"
expect "-u sip:carol@chicago.example.com: the scheme counts (sips:)" \
	"message:c2" -u sip:carol@chicago.example.com "$A"
expect "-u alice -u carol: either" \
	"message:c1 final:c1 message:c2 message:c3 final:c3" -u alice -u carol "$A"
"$E2MLOG" -u Alice "$A" > "$WORK/out" 2>&1
[ $? -eq 1 ] && [ ! -s "$WORK/out" ]
ok $? "-u Alice: user parts are case-sensitive; no match exits 1, prints nothing"

# --- peers
expect "-p 192.0.2.0/24" "message:c1 final:c1" -p 192.0.2.0/24 "$A"
expect "-p 2001:db8::/32 (IPv6)" "message:c2" -p 2001:db8::/32 "$A"
expect "-p 198.51.100.7 (one address)" "message:c3 final:c3" -p 198.51.100.7 "$A"
expect "-p 10.0.0.0/8 -p 2001:db8::/32: either" "message:c2" \
	-p 10.0.0.0/8 -p 2001:db8::/32 "$A"

# --- times
expect "-s 2026-12-06T17:00 -e 2026-12-07: start included" "message:c2" \
	-s 2026-12-06T17:00 -e 2026-12-07 "$A"
expect "-e 2026-12-06T17:00:00Z: end excluded" "message:c1 final:c1" \
	-e 2026-12-06T17:00:00Z "$A"
expect "-s '2026-12-06 16:10:00.124': milliseconds count" \
	"message:c2 message:c3 final:c3" -s '2026-12-06 16:10:00.124' "$A"

# --- Call-ID, kind, filters together
expect "-c c3" "message:c3 final:c3" -c c3 "$A"
expect "-k message" "message:c1 message:c2 message:c3" -k message "$A"
expect "-k final -u alice: the finals of her messages only" \
	"final:c1 final:c3" -k final -u alice "$A"
expect "-k final alone: orphan finals too (nothing filtered)" \
	"final:c1 final:c3 final:orphan" -k final "$A"
expect "-u alice -p 192.0.2.0/24: every kind of filter must match" \
	"message:c1 final:c1" -u alice -p 192.0.2.0/24 "$A"
expect "-u bob -c c3: nothing" "" -u bob -c c3 "$A"

# --- the summary, joined
"$E2MLOG" -t "$A" > "$WORK/sum" 2>"$WORK/err"
want="2026-12-06T16:10:00.123Z  sip:alice@atlanta.example.com -> sip:bob@biloxi.example.com  200  c1  \"Hello Bob how are you?\"
2026-12-06T17:00:00.000Z  sip:bob@biloxi.example.com -> sip:carol@chicago.example.com  -  c2  (1 part, no text)
2026-12-07T09:00:00.000Z  sips:carol@chicago.example.com -> sip:alice@atlanta.example.com;transport=tcp  486  c3  (no body)
2026-12-07T09:00:02.000Z  final  408  orphan  1 MESSAGE"
[ "$(cat "$WORK/sum")" = "$want" ]
ok $? "-t: one line a message, its final status joined (- when none), orphan final on its own"
[ "$(cat "$WORK/sum")" = "$want" ] || sed 's/^/# /' "$WORK/sum"
"$E2MLOG" -t -k final -c c3 "$A" | grep -qx '2026-12-07T09:00:01.000Z  final  486  c3  7 MESSAGE'
ok $? "-t -k final: a line a final record"

# --- rotated files: the message in .1, its final in the current file
R=$WORK/rot.jsonl
sed "s/|/$TAB/g" <<'SPEC' | "$ARCHGEN" "$R.2"
M|2026-12-05T10:00:00Z|r0|1|sip:dave@d.example|sip:alice@atlanta.example.com|192.0.2.9|oldest
F|2026-12-05T10:00:01Z|r0|1|202
SPEC
sed "s/|/$TAB/g" <<'SPEC' | "$ARCHGEN" "$R.1"
M|2026-12-06T23:59:59.999Z|r1|1|sip:dave@d.example|sip:alice@atlanta.example.com|192.0.2.9|late
SPEC
sed "s/|/$TAB/g" <<'SPEC' | "$ARCHGEN" "$R"
F|2026-12-07T00:00:00.100Z|r1|1|480
SPEC
: > "$R.1.gz" # not a rotation e2mlog reads: left alone
expect "-f: ARCHIVE.2, ARCHIVE.1, then ARCHIVE, oldest first" \
	"message:r0 final:r0 message:r1 final:r1" -f "$R"
"$E2MLOG" -t -u dave -f "$R" | grep -q ' -> sip:alice@atlanta.example.com  480  r1  "late"$'
ok $? "-t -f: a message joined with its final in the next file"
"$E2MLOG" -t -u dave "$R" "$R.1" | grep -q '  480  r1  "late"$'
ok $? "files given newest first: the final still joined"
"$E2MLOG" -t -u dave "$R.1" | grep -q '  -  r1  "late"$'
ok $? "the final's file not given: status -"

# --- malformed lines
B=$WORK/bad.jsonl
cp "$A" "$B"
printf 'not json\n{"v":2,"kind":"message"}\n{"v":1,"kind":"message","time":"2026-12-06T16:10:00Z","call_id":"cut' >> "$B"
"$E2MLOG" -u alice "$B" > "$WORK/out" 2> "$WORK/err"
rc=$?
[ $rc -eq 0 ] && [ "$(ids < "$WORK/out")" = "message:c1 final:c1 message:c3 final:c3" ]
ok $? "malformed lines skipped, the good records still found, exit 0"
grep -q "bad.jsonl:7: malformed record: not JSON" "$WORK/err" &&
	grep -q "bad.jsonl:8: malformed record: a version this e2mlog does not know" "$WORK/err" &&
	grep -q "bad.jsonl:9: malformed record: not JSON: a string without its end" "$WORK/err" &&
	grep -q "^e2mlog: 3 malformed lines skipped$" "$WORK/err"
ok $? "each malformed line named with file:line and why, then counted"
[ "$(grep -c 'malformed record' "$WORK/err")" -eq 3 ]
ok $? "reported once, not once per pass"
head -c 100000 /dev/urandom > "$WORK/noise"
"$E2MLOG" "$WORK/noise" > /dev/null 2> "$WORK/err"
[ $? -eq 1 ] && grep -q "malformed lines skipped" "$WORK/err" &&
	[ "$(grep -c 'malformed record' "$WORK/err")" -le 10 ]
ok $? "100 kB of random bytes: no crash, at most 10 lines named, exit 1"

# --- terminal safety: an escape sequence in the text and the Call-ID
T=$WORK/esc.jsonl
printf 'M\t2026-12-06T12:00:00Z\tx\033]0;owned\007y\t1\tsip:eve@e.example\tsip:alice@atlanta.example.com\t192.0.2.66\tred \033[31malert\033[0m \342\200\256txt\n' |
	"$ARCHGEN" "$T"
"$E2MLOG" -t "$T" > "$WORK/out"
! LC_ALL=C grep -q "$(printf '[\001-\037\177]')" "$WORK/out" &&
	grep -qF 'x\u001b]0;owned\u0007y' "$WORK/out" &&
	grep -qF '"red \u001b[31malert\u001b[0m \u202etxt"' "$WORK/out"
ok $? "-t: escape sequences and a bidi override shown as \\uXXXX, no raw control byte"

# --- standard input
cat "$A" | "$E2MLOG" -c c1 > "$WORK/out"
[ "$(ids < "$WORK/out")" = "message:c1 final:c1" ]
ok $? "no file: standard input (read twice through a temporary file)"
"$E2MLOG" -c c3 - < "$A" | grep -qxF "$(sed -n 4p "$A")"
ok $? "'-' is standard input; the record printed is the line in the file"
"$E2MLOG" -t -c c1 <(cat "$A") | grep -q '  200  c1  '
ok $? "a pipe as a file (<(zcat ...)): read twice too, the final joined"

# --- usage
"$E2MLOG" -V | grep -q '^e2mlog [0-9]'
ok $? "-V prints the version"
for args in "-k bogus" "-p 300.1.2.3" "-s yesterday" "-e 2026-12-06T10:00+02:00" "-x"; do
	# shellcheck disable=SC2086 # the word splitting is wanted
	"$E2MLOG" $args "$A" > /dev/null 2>&1
	[ $? -eq 2 ]
	ok $? "e2mlog $args: usage error, exit 2"
done
"$E2MLOG" "$WORK/missing" > /dev/null 2> "$WORK/err"
[ $? -eq 2 ] && grep -q "missing: No such file" "$WORK/err"
ok $? "a missing file: exit 2 with the reason"
"$E2MLOG" -f "$WORK/none.jsonl" > /dev/null 2> "$WORK/err"
[ $? -eq 2 ] && grep -q "no such archive, nor rotated ones" "$WORK/err"
ok $? "-f with no archive and no rotation: exit 2"

echo "1..$N"
[ "$FAILED" -eq 0 ]
