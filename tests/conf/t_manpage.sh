#!/bin/sh
# t_manpage.sh - the documentation of the configuration against the
# schema, and the man pages against the formatters; TAP on stdout.
#
# The schema is the daemon's own (conf_schema_each(), printed by
# tests/conf/schema_dump): every setting path, as "log.level" or, for
# the settings of a list's entries, "sip.listen[].port". Each must be
#  - in docs/e2mproxyd.conf.5 as ".It Ic NAME Pq TYPE, reload|restart"
#    in the list of the subsection ".Ss GROUP" of DESCRIPTION (an
#    entry's settings in a list nested in its list's item), with a
#    default or "Required" in its text; and no item there may name a
#    setting the schema does not have;
#  - in conf/e2mproxyd.conf inside "GROUP: { ... };", as "NAME =" at the
#    start of a line, commented or not; an entry's settings anywhere in
#    the group, as "NAME =" or as "# NAME - ..." (how the file lists the
#    criteria of rules).
# Then every man page in docs/ must render at 80 columns without a
# warning from man --warnings, groff -ww and mandoc -T lint (each
# skipped when the formatter is not installed).

here=$(cd "$(dirname "$0")" && pwd) || exit 1
top=$(cd "${TOP_SRCDIR:-$here/../..}" && pwd) || exit 1
build=${E2M_BUILDDIR:-$top/_build}
dump=$build/tests/conf/schema_dump
page=$top/docs/e2mproxyd.conf.5
conf=$top/conf/e2mproxyd.conf

tmp=$(mktemp -d "${TMPDIR:-/tmp}/t_manpage.XXXXXX") || exit 1
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

skip() {
	n=$((n + 1))
	echo "ok $n # SKIP $1"
}

diag() {
	sed 's/^/#   /' "$1"
}

if [ ! -x "$dump" ]; then
	echo "Bail out! $dump is not built (make check builds it)"
	exit 1
fi
if ! "$dump" >"$tmp/schema" 2>"$tmp/err"; then
	echo "Bail out! schema_dump failed"
	diag "$tmp/err"
	exit 1
fi
# A walk that lost the tables of list entries would still print groups.
if [ "$(wc -l <"$tmp/schema")" -lt 100 ] ||
    ! grep -qx 'sip.listen\[\]\.port' "$tmp/schema" ||
    ! grep -qx 'policy.rules\[\]\.methods' "$tmp/schema"; then
	echo "Bail out! the schema looks incomplete:"
	diag "$tmp/schema"
	exit 1
fi
for f in "$page" "$conf"; do
	if [ ! -r "$f" ]; then
		echo "Bail out! cannot read $f"
		exit 1
	fi
done

# The page's settings: "PATH<TAB>TAG<TAB>DEFAULT" per ".It Ic" item of a
# group's subsection, TAG "ok" when the item line gives type and reload,
# DEFAULT "ok" when its own text (not that of a nested list) names a
# default or says "Required".
awk -v groups="$(cut -d. -f1 "$tmp/schema" | sort -u | tr '\n' ' ')" '
function flush(d) {
	if (item[d] != "")
		print item[d] "\t" tag[d] "\t" (dflt[d] ? "ok" : "none")
	item[d] = ""
}
BEGIN {
	ngroups = split(groups, g, " ")
	for (i = 1; i <= ngroups; i++)
		isgroup[g[i]] = 1
}
/^\.Sh / {
	for (d = depth; d > 0; d--)
		flush(d)
	desc = $2 == "DESCRIPTION"
	group = ""
	depth = 0
	next
}
/^\.Ss / {
	for (d = depth; d > 0; d--)
		flush(d)
	group = (desc && NF == 2 && ($2 in isgroup)) ? $2 : ""
	next
}
group == "" { next }
/^\.Bl / { depth++; name[depth] = ""; next }
/^\.El/ {
	flush(depth)
	name[depth] = ""
	depth--
	next
}
/^\.It / {
	flush(depth)
	if ($2 != "Ic")
		next
	path = group
	for (d = 1; d < depth; d++)
		path = path "." name[d] "[]"
	name[depth] = $3
	item[depth] = path "." $3
	tag[depth] = ($4 == "Pq" && NF == 6 &&
	    $5 ~ /^(boolean|integer|string|file|array|list),$/ &&
	    $6 ~ /^(reload|restart)$/) ? "ok" : "bad"
	dflt[depth] = 0
	next
}
/Default|Required/ { dflt[depth] = 1 }
' "$page" >"$tmp/page"

# The shipped file's settings: "PATH" for each match of the rules above.
awk -v schema="$tmp/schema" '
BEGIN {
	while ((getline p <schema) > 0) {
		split(p, part, ".")
		if (p ~ /\[\]/) {
			entry[part[1] SUBSEP part[3]] = p
		} else
			top[part[1] SUBSEP part[2]] = p
	}
}
/^[a-z_0-9]+:[ \t]*\{/ { sub(/:.*/, ""); group = $0; next }
/^\};/ { group = ""; next }
group == "" { next }
{
	line = $0
	if (match(line, /^[ \t]*(#[ \t]*)?[a-z_0-9]+[ \t]*=/)) {
		w = substr(line, RSTART, RLENGTH)
		gsub(/[ \t#=]/, "", w)
		if ((group SUBSEP w) in top)
			print top[group SUBSEP w]
	}
	if (match(line, /^[ \t]*#[ \t]+[a-z_0-9]+[ \t]+- /)) {
		w = substr(line, RSTART, RLENGTH)
		gsub(/[ \t#-]/, "", w)
		if ((group SUBSEP w) in entry)
			print entry[group SUBSEP w]
	}
	while (match(line, /[a-z_0-9]+[ \t]*=/)) {
		w = substr(line, RSTART, RLENGTH)
		gsub(/[ \t=]/, "", w)
		if ((group SUBSEP w) in entry)
			print entry[group SUBSEP w]
		line = substr(line, RSTART + RLENGTH)
	}
}
' "$conf" | sort -u >"$tmp/conf"

while read -r path; do
	got=$(awk -F '\t' -v p="$path" '$1 == p { print $2 " " $3; exit }' \
	    "$tmp/page")
	case $got in
	"ok ok")
		pass "e2mproxyd.conf(5) documents $path" ;;
	"")
		fail "e2mproxyd.conf(5) documents $path"
		echo "#   no \".It Ic ${path##*.}\" for it in \".Ss ${path%%.*}\"" ;;
	*)
		fail "e2mproxyd.conf(5) documents $path"
		case $got in bad*)
			echo "#   its .It line lacks \"Pq TYPE, reload|restart\"" ;;
		esac
		case $got in *none)
			echo "#   its text names no default (nor \"Required\")" ;;
		esac ;;
	esac
	if grep -qxF "$path" "$tmp/conf"; then
		pass "conf/e2mproxyd.conf has $path"
	else
		fail "conf/e2mproxyd.conf has $path"
	fi
done <"$tmp/schema"

cut -f1 "$tmp/page" | sort >"$tmp/page.paths"
sort "$tmp/schema" >"$tmp/schema.sorted"
comm -23 "$tmp/page.paths" "$tmp/schema.sorted" >"$tmp/extra"
if [ -s "$tmp/extra" ]; then
	fail "e2mproxyd.conf(5) documents no setting the schema lacks"
	diag "$tmp/extra"
else
	pass "e2mproxyd.conf(5) documents no setting the schema lacks"
fi
if [ "$(uniq -d "$tmp/page.paths" | wc -l)" -ne 0 ]; then
	fail "e2mproxyd.conf(5) documents each setting once"
	uniq -d "$tmp/page.paths" | sed 's/^/#   /'
else
	pass "e2mproxyd.conf(5) documents each setting once"
fi

# Rendering at 80 columns: every warning is a failure.
# render WHAT OUT COMMAND...: the command must succeed with nothing on
# stderr, nor on stdout when OUT is "lint" (mandoc -T lint reports there).
render() {
	what=$1 out=$2
	shift 2
	if [ "$out" = lint ]; then
		"$@" >"$tmp/err" 2>&1
	else
		"$@" >/dev/null 2>"$tmp/err"
	fi
	# shellcheck disable=SC2181
	if [ $? -eq 0 ] && [ ! -s "$tmp/err" ]; then
		pass "$what"
	else
		fail "$what"
		diag "$tmp/err"
	fi
}
for f in "$top"/docs/*.[1-9]; do
	b=$(basename "$f")
	if command -v man >/dev/null 2>&1; then
		render "$b: man --warnings at 80 columns" page \
		    env MANWIDTH=80 man --warnings -E UTF-8 -l "$f"
	else
		skip "$b: man --warnings: man is not installed"
	fi
	if command -v groff >/dev/null 2>&1; then
		render "$b: groff -t -mandoc -ww at 80 columns" page \
		    groff -t -mandoc -Tutf8 -ww -z -rLL=80n "$f"
	else
		skip "$b: groff -ww: groff is not installed"
	fi
	if command -v mandoc >/dev/null 2>&1; then
		render "$b: mandoc -T lint -W warning" lint \
		    mandoc -T lint -W warning "$f"
	else
		skip "$b: mandoc -T lint: mandoc is not installed"
	fi
done

echo "1..$n"
[ "$failed" -eq 0 ]
