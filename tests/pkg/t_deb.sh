#!/bin/bash
# t_deb.sh - the Debian package, built from a copy of the source tree (TAP).
#
#   bash tests/pkg/t_deb.sh        from the top of a git checkout, as root
#
# Not part of make check (it builds the whole tree again: 2 to 4 minutes
# on two busy cores, most of it the build): scripts/test.sh runs it as its
# "package" stage.
#
# What it does:
#  - copies the working tree's files (tracked and untracked, not ignored:
#    uncommitted edits are tested, build products are not) to a temporary
#    directory, never building in the source tree;
#  - dpkg-buildpackage -us -uc -b there;
#  - dpkg-deb -c/-I: the programs, every man page of docs/ (the four of
#    today, e2mproxyd.conf.5 when it is there), /etc/e2mproxy/ and the
#    logrotate snippet as conffiles, the unit in /lib/systemd/system, the
#    sysusers snippet, the docs; nothing else;
#  - lintian: no errors, no warnings that are not overridden (with their
#    reasons, in debian/e2mproxy.lintian-overrides);
#  - dpkg-deb -x: the unit, the daemon's default configuration and the
#    keys command's default directory name the installed paths;
#  - installs the package for real, with dpkg and its maintainer scripts,
#    into a throwaway copy-on-write view of this very system (an overlay
#    over /, with its changes in memory, in a mount namespace of its own,
#    chrooted): the user e2mproxy made, /etc/e2mproxy/pki root:e2mproxy
#    0750, nothing enabled; then README.Debian's steps (e2mproxyd-keys -o
#    e2mproxy, e2mproxyd -c as the unit's user), a reinstall keeps an
#    edited configuration, a purge removes the configuration but keeps
#    keys and user. The host's users and dpkg database are checked
#    unchanged afterwards.
#
# What it does not do: start the unit (there is no systemd running as
# pid 1 in a chroot: that the daemon runs under the unit is
# tests/integration/t_systemd.sh's job), an upgrade from an older
# version (there is none), a build in a clean chroot (sbuild, pbuilder:
# the build dependencies are checked against this system's), piuparts.
# Without root, mount namespaces or overlayfs the install part is skipped
# and says why; without dpkg-buildpackage or lintian the whole test is.
set -u

TOP=${TOP_SRCDIR:-$(cd "$(dirname "$0")/../.." && pwd -P)}
T_N=0
T_FAILED=0
WORK=

skip_all() {
	echo "1..0 # SKIP $*"
	echo "t_deb.sh: SKIPPED, NOTHING WAS TESTED: $*" >&2
	exit 0
}

ok() { # STATUS NAME
	T_N=$((T_N + 1))
	if [ "$1" -eq 0 ]; then
		echo "ok $T_N - $2"
	else
		T_FAILED=$((T_FAILED + 1))
		echo "not ok $T_N - $2"
	fi
}

skip() { # NAME WHY
	T_N=$((T_N + 1))
	echo "ok $T_N - $1 # SKIP $2"
}

cleanup() {
	[ -n "$WORK" ] || return 0
	if [ "$T_FAILED" -ne 0 ] || [ -n "${KEEP_WORK:-}" ]; then
		echo "# work directory kept: $WORK"
		for f in "$WORK"/*.log; do
			[ -f "$f" ] || continue
			echo "# --- $f (last 40 lines)"
			tail -n 40 "$f" | sed 's/^/#   /'
		done
	else
		rm -rf "$WORK"
	fi
}

for c in dpkg-buildpackage dpkg-deb dpkg-parsechangelog lintian fakeroot \
    dh git; do
	command -v "$c" > /dev/null 2>&1 ||
		skip_all "$c is not installed (scripts/deps.sh installs it)"
done
git -C "$TOP" rev-parse --is-inside-work-tree > /dev/null 2>&1 ||
	skip_all "$TOP is not a git checkout (the package is built from its files)"

VERSION=$(sed -n 's/^AC_INIT(\[[^]]*\], *\[\([^]]*\)\].*/\1/p' "$TOP/configure.ac")
[ -n "$VERSION" ] || { echo "Bail out! no version in AC_INIT of $TOP/configure.ac"; exit 1; }
WORK=$(mktemp -d "${TMPDIR:-/tmp}/e2m-deb.XXXXXX")
trap cleanup EXIT
SRC=$WORK/e2mproxy-$VERSION

# --- the source: the working tree's files, not its build products
mkdir "$SRC"
(cd "$TOP" && git ls-files -z -c -o --exclude-standard) |
	while IFS= read -r -d '' f; do
		# tracked but deleted in the working tree: not there
		[ -e "$TOP/$f" ] || [ -L "$TOP/$f" ] && printf '%s\0' "$f"
	done | (cd "$TOP" && tar --null -T - -cf -) | tar -xf - -C "$SRC"
[ -f "$SRC/debian/rules" ] && [ -f "$SRC/configure.ac" ] && [ ! -e "$SRC/configure" ]
ok $? "a copy of the tree to build: $(find "$SRC" -type f | wc -l) files, no generated ones"

# make dist ships debian/ file by file (Makefile.am): each one there?
unlisted=
for f in $(cd "$SRC" && find debian -type f | sort); do
	grep -qE "(^|[[:space:]])$f([[:space:]]|\\\\|$)" "$SRC/Makefile.am" ||
		unlisted="$unlisted $f"
done
[ -z "$unlisted" ]
ok $? "every file of debian/ is in Makefile.am's EXTRA_DIST${unlisted:+ (not:$unlisted)}"

deb_version=$(dpkg-parsechangelog -l "$SRC/debian/changelog" -S Version)
[ "${deb_version%-*}" = "$VERSION" ]
ok $? "debian/changelog's version ($deb_version) is configure.ac's ($VERSION)"

# --- build
t0=$SECONDS
# two jobs, like scripts/test.sh (E2M_JOBS sets another number)
(cd "$SRC" && dpkg-buildpackage -us -uc -b -J"${E2M_JOBS:-2}") > "$WORK/build.log" 2>&1
rc=$?
ARCH=$(dpkg --print-architecture)
DEB=$WORK/e2mproxy_${deb_version}_$ARCH.deb
CHANGES=$WORK/e2mproxy_${deb_version}_$ARCH.changes
[ "$rc" -eq 0 ] && [ -f "$DEB" ] && [ -f "$CHANGES" ]
ok $? "dpkg-buildpackage -us -uc -b ($((SECONDS - t0)) s, exit $rc)"
if [ ! -f "$DEB" ]; then
	echo "Bail out! no package built (see $WORK/build.log)"
	exit 1
fi

# --- contents
dpkg-deb -c "$DEB" | awk '{ p = $6; sub(/^\./, "", p); print p }' > "$WORK/contents"
want="/usr/sbin/e2mproxyd /usr/sbin/e2mproxyd-keys /usr/bin/e2mua /usr/bin/e2mlog
/etc/e2mproxy/e2mproxyd.conf /etc/e2mproxy/e2mproxy-nftables.conf /etc/e2mproxy/pki/
/etc/logrotate.d/e2mproxyd /lib/systemd/system/e2mproxyd.service
/usr/lib/sysusers.d/e2mproxy.conf /usr/share/doc/e2mproxy/copyright
/usr/share/doc/e2mproxy/README.Debian /usr/share/doc/e2mproxy/README.md"
missing=
for f in $want; do
	grep -qxF "$f" "$WORK/contents" || missing="$missing $f"
done
[ -z "$missing" ]
ok $? "programs, /etc/e2mproxy/, logrotate, unit, sysusers, docs${missing:+ (missing:$missing)}"

# Every manual page in docs/, compressed, in its section; the four of
# today at least.
pages=
missing=
for p in "$TOP"/docs/*.[1-8]; do
	[ -f "$p" ] || continue
	n=${p##*/}
	pages="$pages $n"
	grep -qxF "/usr/share/man/man${n##*.}/$n.gz" "$WORK/contents" || missing="$missing $n"
done
for n in e2mproxyd.8 e2mproxyd-keys.8 e2mua.1 e2mlog.1; do
	case " $pages " in *" $n "*) ;; *) missing="$missing $n(not in docs/)" ;; esac
done
[ -z "$missing" ]
ok $? "man pages:$pages${missing:+ (missing:$missing)}"

extra=$(grep -v -E '^/$|^/(etc|lib|usr)/$|^/etc/(e2mproxy|logrotate\.d)/|^/lib/systemd/(system/)?|^/usr/(bin|sbin)/|^/usr/lib/$|^/usr/lib/sysusers\.d/|^/usr/share/$|^/usr/share/doc/(e2mproxy/)?|^/usr/share/lintian/(overrides/(e2mproxy)?)?$|^/usr/share/man/' "$WORK/contents")
[ -z "$extra" ] && ! grep -qE '\.(a|la|o|h)$|/test_|/LICENSE$' "$WORK/contents"
ok $? "nothing else (and the lintian overrides): no test programs, libraries, headers or second license${extra:+ (extra: $(tr "\n" " " <<< "$extra"))}"

dpkg-deb -f "$DEB" Depends > "$WORK/depends"
dpkg-deb -I "$DEB" conffiles > "$WORK/conffiles" 2>&1
printf '%s\n' /etc/e2mproxy/e2mproxy-nftables.conf /etc/e2mproxy/e2mproxyd.conf \
	/etc/logrotate.d/e2mproxyd | cmp -s - <(sort "$WORK/conffiles")
ok $? "conffiles: $(tr "\n" " " < "$WORK/conffiles")"
grep -q 'libsofia-sip-ua0' "$WORK/depends" && grep -q 'openssl' "$WORK/depends" &&
	grep -q 'systemd-sysusers' "$WORK/depends"
ok $? "Depends: shared libraries, openssl, a systemd-sysusers ($(cat "$WORK/depends"))"

dpkg-deb -e "$DEB" "$WORK/control"
! grep -qE 'deb-systemd-invoke +(start|restart)|systemctl +(start|restart|enable)' \
	"$WORK/control/postinst" &&
	grep -q "deb-systemd-helper --quiet was-enabled 'e2mproxyd.service'" "$WORK/control/postinst"
ok $? "postinst starts nothing and enables only a unit that was enabled before"

# --- lintian
lintian --pedantic -I "$CHANGES" > "$WORK/lintian.log" 2>&1
grep -E '^[EWIXP]: ' "$WORK/lintian.log" | sed 's/^/# lintian: /'
! grep -q '^E: ' "$WORK/lintian.log"
ok $? "lintian: no errors ($(grep -c '^E: ' "$WORK/lintian.log"))"
! grep -q '^W: ' "$WORK/lintian.log"
ok $? "lintian: no warnings that are not overridden ($(grep -c '^W: ' "$WORK/lintian.log"))"

# --- the extracted package names its own paths
X=$WORK/x
dpkg-deb -x "$DEB" "$X"
U=$X/lib/systemd/system/e2mproxyd.service
grep -qx 'ExecStart=/usr/sbin/e2mproxyd -D -f /etc/e2mproxy/e2mproxyd.conf' "$U" &&
	grep -qx 'ExecStartPre=/usr/sbin/e2mproxyd -c -f /etc/e2mproxy/e2mproxyd.conf' "$U" &&
	grep -qx 'User=e2mproxy' "$U" &&
	grep -q '^Documentation=.* file:///usr/share/doc/e2mproxy/README.md$' "$U"
ok $? "the unit runs /usr/sbin/e2mproxyd on /etc/e2mproxy/e2mproxyd.conf as e2mproxy; its README is there"
"$X/usr/sbin/e2mproxyd" -h 2>&1 | grep -q 'default /etc/e2mproxy/e2mproxyd.conf' &&
	"$X/usr/sbin/e2mproxyd" -V 2>&1 | grep -qF "$VERSION"
ok $? "the packaged daemon: version $VERSION, default configuration /etc/e2mproxy/e2mproxyd.conf"
grep -qx 'dir=/etc/e2mproxy/pki' "$X/usr/sbin/e2mproxyd-keys"
ok $? "e2mproxyd-keys writes to /etc/e2mproxy/pki by default"
grep -q '^/var/lib/e2mproxy/im.jsonl {' "$X/etc/logrotate.d/e2mproxyd" &&
	grep -qx 'StateDirectory=e2mproxy' "$U"
ok $? "logrotate rotates /var/lib/e2mproxy/im.jsonl, the unit's StateDirectory"

# --- a real install into a throwaway view of this system
# The maintainer scripts run as dpkg runs them, in a chroot whose root is
# an overlay: this system below, a tmpfs above, in a mount namespace of
# its own that ends with the test. Nothing reaches the host's /.
install_skip=
if [ "$(id -u)" -ne 0 ]; then
	install_skip="needs root (dpkg, mounts)"
elif ! command -v unshare > /dev/null 2>&1; then
	install_skip="no unshare"
elif ! grep -qw overlay /proc/filesystems && ! modprobe overlay 2> /dev/null; then
	install_skip="no overlayfs"
else
	for d in /usr /etc /var /var/lib; do
		if mountpoint -q "$d"; then
			install_skip="$d is a mount of its own: an overlay of / would not show it"
			break
		fi
	done
fi
if [ -z "$install_skip" ] &&
    ! err=$(unshare -m --propagation private true 2>&1); then
	install_skip="cannot make a mount namespace: $err"
fi

# The steps inside the chroot; each check prints "ok DESCRIPTION" or
# "not-ok DESCRIPTION", read back into TAP lines below.
cat > "$WORK/inside.sh" << 'EOF'
set -u
check() { # DESCRIPTION COMMAND...: run it, say how it went
	d=$1
	shift
	if "$@"; then echo "CHECK ok $d"; else echo "CHECK not-ok $d"; fi
}
deb=/tmp/e2mproxy.deb
conf=/etc/e2mproxy/e2mproxyd.conf
user_made() {
	IFS=: read -r _ _ uid gid _ home shell <<E
$(getent passwd e2mproxy)
E
	[ -n "$uid" ] && [ "$uid" -lt 1000 ] && [ "$home" = /var/lib/e2mproxy ] &&
		[ "$shell" = /usr/sbin/nologin ] &&
		[ "$(getent group e2mproxy | cut -d: -f3)" = "$gid" ]
}
pki_group() {
	[ "$(stat -c '%U:%G %a' /etc/e2mproxy/pki)" = "root:e2mproxy 750" ] &&
		dpkg-statoverride --list /etc/e2mproxy/pki |
		grep -qx 'root e2mproxy 750 /etc/e2mproxy/pki'
}
not_enabled() {
	[ -z "$(find /etc/systemd/system -name e2mproxyd.service 2> /dev/null)" ] &&
		! DPKG_MAINTSCRIPT_PACKAGE=e2mproxy \
		deb-systemd-helper --quiet was-enabled e2mproxyd.service
}
keys_made() {
	e2mproxyd-keys -s -o e2mproxy proxy.example.com > /dev/null &&
		[ "$(stat -c '%U %a' /etc/e2mproxy/pki/proxy.key)" = "e2mproxy 600" ] &&
		[ "$(stat -c '%U %a' /etc/e2mproxy/pki/proxy-sign.key)" = "e2mproxy 600" ]
}
edit_kept() {
	dpkg -i "$deb" > /tmp/reinstall.out 2>&1 &&
		[ "$(tail -n 1 "$conf")" = "# edited" ] &&
		[ -z "$(find /etc/e2mproxy -name '*.dpkg-*')" ]
}
purged() {
	[ ! -e "$conf" ] && [ ! -e /etc/logrotate.d/e2mproxyd ] &&
		[ ! -e /usr/sbin/e2mproxyd ] &&
		[ -z "$(dpkg-statoverride --list /etc/e2mproxy/pki)" ] &&
		[ -f /etc/e2mproxy/pki/proxy.key ] && getent passwd e2mproxy > /dev/null
}
# man-db's trigger rebuilds its whole index at every dpkg run: not here
rm -f /var/lib/man-db/auto-update
check "dpkg -i, with this system's packages as the dependencies" dpkg -i "$deb"
check "a system user e2mproxy (uid < 1000, home /var/lib/e2mproxy, no shell) and its group" user_made
check "/etc/e2mproxy/pki root:e2mproxy 0750, through dpkg-statoverride" pki_group
check "the unit is not enabled (no link, not was-enabled)" not_enabled
# README.Debian's steps, with a trial's keys
check "README.Debian: e2mproxyd-keys -s -o e2mproxy: keys of the user, 0600" keys_made
cp /etc/e2mproxy/pki/proxy.pem /etc/e2mproxy/pki/ca.pem
out=$(runuser -u e2mproxy -- e2mproxyd -c -f "$conf" 2>&1)
check "README.Debian: e2mproxyd -c as the unit's user: $out" [ "$out" = "configuration OK" ]
echo '# edited' >> "$conf"
check "a reinstall keeps the edited configuration" edit_kept
check "dpkg --purge" dpkg --purge e2mproxy
check "purged: configuration, logrotate snippet, override; kept: keys, user" purged
EOF

if [ -n "$install_skip" ]; then
	skip "install into a throwaway view of this system" "$install_skip"
else
	host_before=$(md5sum /etc/passwd /etc/group /etc/shadow /var/lib/dpkg/status 2>&1)
	M=$WORK/mnt
	mkdir "$M"
	# The mounts exist only in this namespace, and end with it. A tmpfs on
	# /run hides the host's systemd: no maintainer script can reach it.
	# shellcheck disable=SC2016 # expanded by the inner shell
	unshare -m -n --propagation private /bin/sh -eu -c '
		M=$1 DEB=$2 INSIDE=$3
		mount -t tmpfs -o mode=0755 e2m-deb "$M"
		mkdir "$M/upper" "$M/work" "$M/root"
		mount -t overlay e2m-deb -o "lowerdir=/,upperdir=$M/upper,workdir=$M/work" "$M/root"
		mount -t proc proc "$M/root/proc"
		mount --rbind /dev "$M/root/dev"
		mount -t tmpfs tmpfs "$M/root/tmp"
		mount -t tmpfs tmpfs "$M/root/run"
		cp "$DEB" "$M/root/tmp/e2mproxy.deb"
		cp "$INSIDE" "$M/root/tmp/inside.sh"
		exec chroot "$M/root" /bin/sh /tmp/inside.sh
	' t_deb "$M" "$DEB" "$WORK/inside.sh" > "$WORK/install.log" 2>&1
	rc=$?
	want=$(grep -c '^check ' "$WORK/inside.sh")
	n=0
	while read -r tag status what; do
		[ "$tag" = CHECK ] || continue
		[ "$status" = ok ]
		ok $? "installed: $what"
		n=$((n + 1))
	done < "$WORK/install.log"
	[ "$rc" -eq 0 ] && [ "$n" -eq "$want" ]
	ok $? "the install ran its $want checks to the end (exit $rc, $n checks)"
	host_after=$(md5sum /etc/passwd /etc/group /etc/shadow /var/lib/dpkg/status 2>&1)
	[ "$host_before" = "$host_after" ]
	ok $? "the host's users, groups and dpkg database are unchanged"
fi

echo "1..$T_N"
[ "$T_FAILED" -eq 0 ]
