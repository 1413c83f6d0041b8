#!/bin/bash
# layers.sh - the source tree's layering rules (docs/design.md, "Source
# tree"), checked on every #include of every file under src/:
#
#   layer    may include our headers from      and system headers of
#   common   common                            libc only
#   crypto   crypto common                     OpenSSL
#   e2m      e2m crypto common                 (no library)
#   sip      sip e2m crypto common             Sofia
#   services services common                   libnftables
#   proxyd   proxyd services sip e2m crypto common
#                                              Sofia, libevent, libconfig
#   ua       ua sip e2m crypto common          Sofia, libconfig
#   tools    tools services common             libc only
#
# so OpenSSL is used only under crypto/, Sofia only under sip/, proxyd/
# and ua/, the daemon, the user agent and the operators' tools (e2mlog)
# never include each other, and a lower layer never includes a higher
# one. Our headers are always named with their folder ("e2m/mime.h");
# only config.h (made by configure) is not. The checker is first run on a
# made-up tree that breaks each rule, so that it is known to catch what it
# looks for.
set -u
: "${TOP_SRCDIR:=$(cd "$(dirname "$0")/.." && pwd)}"
n=0 failed=0

ok() { # STATUS NAME
	n=$((n + 1))
	if [ "$1" -eq 0 ]; then
		echo "ok $n - $2"
	else
		failed=$((failed + 1))
		echo "not ok $n - $2"
	fi
}

# check SRCDIR: print one line per broken rule ("file:line: why").
check() {
	local src=$1
	(cd "$src" && find . -name '*.[ch]' | sed 's|^\./||' | sort) |
	while read -r f; do
		awk -v f="$f" '
		BEGIN {
			split(f, p, "/"); layer = p[1]
			ours["common"] = "common"
			ours["crypto"] = "crypto common"
			ours["e2m"] = "e2m crypto common"
			ours["sip"] = "sip e2m crypto common"
			ours["services"] = "services common"
			ours["proxyd"] = "proxyd services sip e2m crypto common"
			ours["ua"] = "ua sip e2m crypto common"
			ours["tools"] = "tools services common"
			libs["common"] = ""
			libs["crypto"] = "openssl"
			libs["e2m"] = ""
			libs["sip"] = "sofia-sip"
			libs["services"] = "nftables"
			libs["proxyd"] = "sofia-sip event2 libconfig.h"
			libs["ua"] = "sofia-sip libconfig.h"
			libs["tools"] = ""
			# Headers of the libraries the rules are about.
			known["openssl"] = known["sofia-sip"] = 1
			known["event2"] = known["libconfig.h"] = 1
			known["nftables"] = 1
			if (!(layer in ours))
				printf "%s: not in a layer folder\n", f
		}
		/^[ \t]*#[ \t]*include[ \t]*"/ {
			h = $0; sub(/^[^"]*"/, "", h); sub(/".*/, "", h)
			if (h == "config.h")
				next
			if (h !~ /\//) {
				printf "%s:%d: \"%s\" without its folder\n", f, NR, h
				next
			}
			split(h, q, "/")
			if (index(" " ours[layer] " ", " " q[1] " ") == 0)
				printf "%s:%d: %s/ may not include %s\n", f, NR, \
				    layer, h
			next
		}
		/^[ \t]*#[ \t]*include[ \t]*</ {
			h = $0; sub(/^[^<]*</, "", h); sub(/>.*/, "", h)
			split(h, q, "/"); top = q[1]
			if (!(top in known))
				next
			if (index(" " libs[layer] " ", " " top " ") == 0)
				printf "%s:%d: %s/ may not use <%s>\n", f, NR, \
				    layer, h
		}' "$src/$f"
	done
}

# --- the checker on a tree that breaks every rule once
bad=$(mktemp -d)
trap 'rm -rf "$bad"' EXIT
mkdir -p "$bad/common" "$bad/e2m" "$bad/proxyd/sofia" "$bad/ua" "$bad/misc"
printf '#include "e2m/mime.h"\n' > "$bad/common/up.c"
printf '#include <openssl/evp.h>\n#include <sofia-sip/msg.h>\n' > "$bad/e2m/libs.c"
printf '#include "ua/uac.h"\n#include "log.h"\n#include "config.h"\n' > "$bad/proxyd/sofia/cross.c"
printf '#include "proxyd/conf.h"\n#include <event2/event.h>\n#include <stdio.h>\n' > "$bad/ua/cross.c"
printf '/* nothing */\n' > "$bad/misc/x.c"
found=$(check "$bad")
want='common/up.c:1: common/ may not include e2m/mime.h
e2m/libs.c:1: e2m/ may not use <openssl/evp.h>
e2m/libs.c:2: e2m/ may not use <sofia-sip/msg.h>
misc/x.c: not in a layer folder
proxyd/sofia/cross.c:1: proxyd/ may not include ua/uac.h
proxyd/sofia/cross.c:2: "log.h" without its folder
ua/cross.c:1: ua/ may not include proxyd/conf.h
ua/cross.c:2: ua/ may not use <event2/event.h>'
[ "$found" = "$want" ]
ok $? "the checker finds each kind of broken rule in a made-up tree"
[ "$found" = "$want" ] || diff <(echo "$want") <(echo "$found") | sed 's/^/# /'

# --- the real tree
found=$(check "$TOP_SRCDIR/src")
[ -z "$found" ]
ok $? "every #include under src/ keeps the layering rules"
[ -z "$found" ] || sed 's/^/# /' <<<"$found"

for layer in common crypto e2m sip services proxyd ua tools; do
	[ -n "$(find "$TOP_SRCDIR/src/$layer" -name '*.c' 2>/dev/null)" ]
	ok $? "src/$layer/ holds code"
done

outside=$(grep -rl '#include <openssl/' "$TOP_SRCDIR/src" | grep -v '/src/crypto/')
[ -z "$outside" ]
ok $? "OpenSSL headers are included under crypto/ only"
outside=$(grep -rl '#include <sofia-sip/' "$TOP_SRCDIR/src" |
	grep -v -e '/src/sip/' -e '/src/proxyd/' -e '/src/ua/')
[ -z "$outside" ]
ok $? "Sofia headers are included under sip/, proxyd/ and ua/ only"

too_long=$(find "$TOP_SRCDIR/src" -name '*.[ch]' -exec wc -l {} + |
	awk '$2 != "total" && $1 > 1200 { print $2 " (" $1 " lines)" }')
[ -z "$too_long" ]
ok $? "no source file over 1200 lines"
[ -z "$too_long" ] || sed 's/^/# /' <<<"$too_long"

echo "1..$n"
[ "$failed" -eq 0 ]
