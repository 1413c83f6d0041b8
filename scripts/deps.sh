#!/bin/sh
# deps.sh - install what building and testing e2mproxy needs on Debian 12.
#
# Run as root (or through sudo) on a fresh Debian 12 ("bookworm") machine.
# dpkg-dev, debhelper, fakeroot and lintian: the Debian package and its
# test (tests/pkg/t_deb.sh). kamailio and baresip-core: the registrar and
# the softphone of the edge-proxy tests (tests/integration/kamailio.sh,
# baresip.sh; baresip-core is the binary and its modules, without the
# GUI front ends the "baresip" metapackage recommends);
# kamailio-tls-modules: Kamailio's TLS, the next hops of
# tests/integration/t_tls_names.sh. sipvicious: svmap, svwar and svcrash,
# the scanners of tests/integration/t_hostile.sh. coturn:
# turnutils_stunclient, the RFC 5389 STUN client of
# tests/integration/t_keepalive.sh; only the client is wanted, so the
# TURN server the package starts (on port 3478, every address) is
# stopped and disabled when this script installed it.
# mandoc: the second man page linter of tests/conf/t_manpage.sh (mandoc
# -T lint), which skips its checks without it.
# Idempotent: when every package is already installed it does not touch
# apt at all, so repeated runs take a fraction of a second.
#
#   scripts/deps.sh          install what is missing
#   scripts/deps.sh --check  only say what is missing; exit 1 if anything is
set -eu

PACKAGES="
	build-essential
	autoconf
	automake
	libtool
	pkg-config
	make
	gcc
	libsofia-sip-ua-dev
	libssl-dev
	openssl
	libconfig-dev
	libevent-dev
	nftables
	logrotate
	libnftables-dev
	libsystemd-dev
	libjemalloc-dev
	systemd
	man-db
	mandoc
	prometheus
	curl
	sip-tester
	sipsak
	sipvicious
	faketime
	valgrind
	kamailio
	kamailio-tls-modules
	baresip-core
	coturn
	python3
	procps
	iproute2
	psmisc
	clang
	libclang-rt-14-dev
	llvm
	clang-format
	ca-certificates
	groff-base
	git
	file
	gzip
	tar
	dpkg-dev
	debhelper
	fakeroot
	lintian
"

# Print the packages of $PACKAGES that are not fully installed, on one line.
missing() {
	m=
	for p in $PACKAGES; do
		s=$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null) ||
			s=
		[ "$s" = installed ] || m="$m${m:+ }$p"
	done
	echo "$m"
}

if ! command -v dpkg-query >/dev/null 2>&1 ||
    ! command -v apt-get >/dev/null 2>&1; then
	echo "deps.sh: this script needs Debian (dpkg-query, apt-get)" >&2
	exit 1
fi

need=$(missing)
if [ -z "$need" ]; then
	echo "deps.sh: all build and test dependencies are installed"
	exit 0
fi

if [ "${1:-}" = --check ]; then
	echo "deps.sh: missing: $need"
	exit 1
fi

SUDO=
if [ "$(id -u)" -ne 0 ]; then
	if command -v sudo >/dev/null 2>&1; then
		SUDO=sudo
	else
		echo "deps.sh: missing packages ($need), and not root:" \
		    "run me as root" >&2
		exit 1
	fi
fi

echo "deps.sh: installing with apt-get (a few minutes on a fresh machine):"
echo "deps.sh:   $need"
# Quiet unless something goes wrong: then apt's whole output is shown.
out=$(mktemp "${TMPDIR:-/tmp}/deps.XXXXXX")
trap 'rm -f "$out"' EXIT
run_apt() {
	if ! $SUDO env DEBIAN_FRONTEND=noninteractive apt-get -q -y "$@" >"$out" 2>&1; then
		echo "deps.sh: apt-get $1 failed:" >&2
		cat "$out" >&2
		exit 1
	fi
	grep '^[EW]: ' "$out" >&2 || :
}
run_apt update
# shellcheck disable=SC2086 # the word splitting is wanted
run_apt install --no-install-recommends \
    -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold \
    $need

# Packages that start a server of their own when installed: coturn (TURN
# on 3478) and kamailio (SIP on 5060, the demo's port). The tests run
# their own instances; the system ones are stopped and disabled when this
# script installed them (an operator's own are left alone).
for svc in coturn kamailio; do
	case " $need " in
	*" $svc "*)
		if [ -d /run/systemd/system ]; then
			$SUDO systemctl disable --now "$svc" >/dev/null 2>&1 || :
		fi
		;;
	esac
done

need=$(missing)
if [ -n "$need" ]; then
	echo "deps.sh: still not installed after apt-get: $need" >&2
	exit 1
fi
echo "deps.sh: done"
