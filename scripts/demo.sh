#!/bin/bash
# demo.sh - set up and run e2mproxyd on 127.0.0.1 with the shipped default
# configuration, in the foreground (Ctrl-C stops it). Installs what it needs
# with apt-get on Debian 12 (run as root).
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/deps.sh
if [ ! -x _build/e2mproxyd ] || [ -n "$(find src configure.ac Makefile.am -newer _build/e2mproxyd 2>/dev/null | head -1)" ]; then
	[ -x configure ] && [ configure -nt configure.ac ] || autoreconf -fi
	mkdir -p _build
	(cd _build && { [ -f Makefile ] || ../configure; } && make -j2 e2mproxyd)
fi
echo "e2mproxyd listens on udp and tcp 127.0.0.1:5060 (conf/e2mproxyd.conf); Ctrl-C stops it."
echo "Try from another terminal: sipsak -vv -s sip:127.0.0.1:5060"
exec _build/e2mproxyd -D -f conf/e2mproxyd.conf
