# ownns.sh - a test that runs in namespaces of its own (sourced first,
# before lib.sh, which it does not need): nothing of the host's network or
# firewall is touched, and the test's ports are its own.
#
# own_namespaces NAME FLAGS [COMMAND...]: unless already inside, check
# that each COMMAND is installed, then run this script again under
# `unshare -r FLAGS` (user namespace and FLAGS, e.g. -n or -nm; as root
# where user namespaces are not allowed, FLAGS alone). When that cannot
# be done the test is skipped, saying so: it never passes without having
# run. Inside, lo is up.

ns_skip() { # NAME WHY
	echo "1..0 # SKIP $2"
	echo "$1: SKIPPED, NOTHING WAS TESTED: $2" >&2
	exit 0
}

own_namespaces() {
	local name=$1 flags=$2 c
	shift 2
	if [ -z "${E2M_OWN_NS:-}" ]; then
		for c in "$@"; do
			command -v "$c" >/dev/null 2>&1 ||
				ns_skip "$name" "$c is not installed"
		done
		export E2M_OWN_NS=1
		if unshare -r "$flags" true 2>/dev/null; then
			exec unshare -r "$flags" bash "$0"
		elif [ "$(id -u)" -eq 0 ] && unshare "$flags" true 2>/dev/null; then
			exec unshare "$flags" bash "$0"
		fi
		ns_skip "$name" "cannot make namespaces: $(unshare -r "$flags" true 2>&1)"
	fi
	ip link set lo up 2>/dev/null || ns_skip "$name" "cannot bring up lo"
}
