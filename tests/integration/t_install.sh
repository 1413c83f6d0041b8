#!/bin/bash
# make install into a throwaway root: what lands where (programs, man
# pages, the configuration under $sysconfdir/e2mproxy/, the unit, the
# logrotate snippet), a second install keeps an edited configuration;
# then the installed e2mproxyd-keys: keys for a trial, the installed
# daemon accepts them with the installed configuration, a second run
# overwrites nothing, requests for a CA, RSA keys.
. "$TOP_SRCDIR/tests/integration/lib.sh"
t_init install 21680
R=$WORK/root
make -s -C "$E2M_BUILDDIR" install DESTDIR="$R" > "$WORK/install.out" 2>&1
ok $? "make install DESTDIR=..."
prefix=$(sed -n 's/^prefix = //p' "$E2M_BUILDDIR/Makefile")
sysconfdir=$(sed -n 's/^sysconfdir = //p' "$E2M_BUILDDIR/Makefile" | sed "s|\${prefix}|$prefix|")
unitdir=$(sed -n 's/^systemdsystemunitdir = //p' "$E2M_BUILDDIR/Makefile" | sed "s|\${prefix}|$prefix|")
missing=
for f in "$prefix/sbin/e2mproxyd" "$prefix/sbin/e2mproxyd-keys" "$prefix/bin/e2mua" "$prefix/bin/e2mlog" \
	"$prefix/share/man/man8/e2mproxyd.8" "$prefix/share/man/man8/e2mproxyd-keys.8" \
	"$prefix/share/man/man1/e2mua.1" "$prefix/share/man/man1/e2mlog.1" \
	"$prefix/share/man/man5/e2mproxyd.conf.5" \
	"$sysconfdir/e2mproxy/e2mproxyd.conf" "$sysconfdir/e2mproxy/e2mproxy-nftables.conf" \
	"$sysconfdir/logrotate.d/e2mproxyd" "$unitdir/e2mproxyd.service"; do
	[ -e "$R$f" ] || missing="$missing $f"
done
[ -z "$missing" ]
ok $? "installed: programs, man pages, \$sysconfdir/e2mproxy/, logrotate snippet, unit${missing:+ (missing:$missing)}"
grep -q "^ExecStart=$prefix/sbin/e2mproxyd -D -f $sysconfdir/e2mproxy/e2mproxyd.conf$" "$R$unitdir/e2mproxyd.service"
ok $? "the unit names the installed daemon and configuration"
"$R$prefix/sbin/e2mproxyd" -h | grep -q "default $sysconfdir/e2mproxy/e2mproxyd.conf"
ok $? "the daemon's default configuration is \$sysconfdir/e2mproxy/e2mproxyd.conf"

echo '# edited' >> "$R$sysconfdir/e2mproxy/e2mproxyd.conf"
make -s -C "$E2M_BUILDDIR" install DESTDIR="$R" > "$WORK/install2.out" 2>&1
tail -1 "$R$sysconfdir/e2mproxy/e2mproxyd.conf" | grep -q '^# edited$' &&
	cmp -s "$R$sysconfdir/e2mproxy/e2mproxyd.conf.new" "$TOP_SRCDIR/conf/e2mproxyd.conf"
ok $? "a second install keeps the edited configuration, the new one beside it (.new)"

# The keys of a trial, where the shipped configuration looks for them.
CONFDIR=$R$sysconfdir/e2mproxy
KEYS=$R$prefix/sbin/e2mproxyd-keys
"$KEYS" -s -d "$CONFDIR/pki" proxy.example.com > "$WORK/keys.out" 2>&1
ok $? "e2mproxyd-keys -s: a trial's keys ($(head -1 "$WORK/keys.out"))"
[ "$(stat -c %a "$CONFDIR/pki/proxy.key")" = 600 ] && [ "$(stat -c %a "$CONFDIR/pki/proxy-sign.key")" = 600 ] &&
	openssl x509 -in "$CONFDIR/pki/proxy-sign.pem" -noout -ext subjectAltName | grep -q 'DNS:proxy.example.com'
ok $? "keys 0600, the certificates name the host"
# The shipped configuration also names a CA for its trust anchors.
cp "$CONFDIR/pki/proxy.pem" "$CONFDIR/pki/ca.pem"
"$R$prefix/sbin/e2mproxyd" -c -f "$CONFDIR/e2mproxyd.conf.new" > "$WORK/check.out" 2>&1
ok $? "the installed daemon accepts them with the installed configuration ($(tail -1 "$WORK/check.out"))"
sums=$(md5sum "$CONFDIR"/pki/*)
"$KEYS" -s -d "$CONFDIR/pki" proxy.example.com > "$WORK/keys2.out" 2>&1
[ $? -eq 1 ] && grep -q 'exists: nothing written' "$WORK/keys2.out" && [ "$(md5sum "$CONFDIR"/pki/*)" = "$sums" ]
ok $? "a second run overwrites nothing ($(cat "$WORK/keys2.out"))"
"$KEYS" -t rsa -d "$WORK/csr" edge.example.net > /dev/null 2>&1 &&
	openssl req -in "$WORK/csr/proxy.csr" -noout -text | grep -q 'DNS:edge.example.net' &&
	openssl req -in "$WORK/csr/proxy.csr" -noout -text | grep -q 'Public-Key: (3072 bit)' &&
	[ ! -e "$WORK/csr/proxy.pem" ]
ok $? "requests for a CA, RSA 3072, no certificate made"
"$KEYS" -s -d "$WORK/bad" 'bad host;rm' > "$WORK/bad.out" 2>&1
[ $? -eq 2 ] && [ ! -e "$WORK/bad" ]
ok $? "a host that is no host name: refused, nothing made"

make -s -C "$E2M_BUILDDIR" uninstall DESTDIR="$R" > /dev/null 2>&1
left=$(find "$R" -type f ! -path "*/pki/*" | sed "s|^$R||")
[ -z "$left" ]
ok $? "make uninstall leaves only the keys made here${left:+ (left: $left)}"
t_done
