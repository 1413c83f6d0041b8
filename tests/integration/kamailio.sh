# kamailio.sh - a real Kamailio 5.6 (Debian's package) as the registrar in
# integration tests. Sourced after lib.sh (needs $WORK, $PIDS, sip_raw).
#
#   kam_start PORT    (sets KAM_PORT) write $WORK/kamailio.cfg, run Kamailio on
#                     127.0.0.1:PORT (UDP and TCP) in the foreground, as a
#                     background job of the test (its pid in $PIDS and
#                     $KAM_PID, so t_cleanup stops it); returns 0 once it
#                     answers OPTIONS over UDP and TCP and kamcmd works
#                     (bounded: 20 s), else prints its log and returns 1
#   kam_cmd ARGS...   kamcmd over the ctl socket in $WORK, e.g.
#                     kam_cmd ul.dump  (AoRs, contacts, their Path)
#                     kam_cmd ul.lookup location bob
#   kam_wait_contact AOR REGEX [SECONDS]
#                     wait (default 10 s) until ul.dump shows AOR with a
#                     line matching REGEX (extended grep); prints nothing
#   kam_stop          stop it (SIGTERM, bounded wait)
#
# Tunables (environment, read by kam_start):
#   KAM_PATH_MODE  registrar path_mode: 2 (default, RFC 3327: a REGISTER
#                  with Path but without "Supported: path" gets 420),
#                  1 (store, echo Path only when supported), 0 (store, never
#                  echo)
#   KAM_DEBUG      Kamailio's log level (default 2; 3 = debug)
#
# What it is: a registrar for the domain example.com (alias; 127.0.0.1:PORT
# is also "myself"). AoRs are the user part only (usrloc use_domain 0),
# kept in memory (db_mode 0).
# - REGISTER: save("location"); Path is stored (registrar use_path=1,
#   path_use_received=0) and RFC 5626 outbound is supported (registrar
#   outbound_mode=1: "Require: outbound" in the 2xx when the UA sent reg-id,
#   +sip.instance and "Supported: outbound" and its first hop is either
#   Kamailio itself or a Path with ;ob).
# - Requests for users of example.com: lookup("location"); the contact
#   becomes the Request-URI and, when it came with a Path, the first Path
#   URI the destination and the whole Path the Route set (RFC 3327 §5.3),
#   so an edge proxy gets its own Path URI (flow token included) back as
#   the top Route. 404 when not registered. INVITEs are record-routed.
#   A 430 (Flow Failed) from a branch unregisters that contact (not a
#   403: the edge proxy's policy refuses single requests with 403, and
#   that must not cost the phone its registration)
#   (RFC 5626 §5.3); the caller gets the final response as it came.
# - Requests for other domains are relayed to the Request-URI (the
#   tests' callees), record-routed; in-dialog requests loose-route.
# - Kamailio's outbound.so is not loaded: it implements the *edge proxy*
#   half of RFC 5626 (flow tokens in its own Path/Record-Route); as the
#   registrar behind our edge proxy Kamailio must not add tokens of its
#   own. The registrar half is registrar's outbound_mode.
# Root or not: Kamailio is not told to change user (no -u/-g), so it runs
# as whoever starts it, also as the mapped root of "unshare -rn". Every
# file it writes (pid file, ctl socket, runtime_dir) is in $WORK.

KAMAILIO=${KAMAILIO:-kamailio}
KAMCMD=${KAMCMD:-kamcmd}
KAM_PID=""

kam_write_cfg() {
	# $1: port. A quoted here-document keeps Kamailio's $-variables
	# intact; @PORT@, @WORK@, @PATHMODE@ are filled in by sed.
	sed -e "s|@PORT@|$1|g" -e "s|@WORK@|$WORK|g" \
	    -e "s|@PATHMODE@|${KAM_PATH_MODE:-2}|g" \
	    -e "s|@DEBUG@|${KAM_DEBUG:-2}|g" > "$WORK/kamailio.cfg" <<'KAMCFG'
#!KAMAILIO
# Registrar for example.com, written by tests/integration/kamailio.sh

debug=@DEBUG@
log_stderror=yes
log_prefix="{$mt $hdr(CSeq) $ci} "
memdbg=5
memlog=5
fork=yes
children=2
tcp_children=2
auto_aliases=no
listen=udp:127.0.0.1:@PORT@
listen=tcp:127.0.0.1:@PORT@
alias="example.com"
rundir="@WORK@"
dns=no
rev_dns=no
use_dns_cache=off
tcp_accept_aliases=yes

loadmodule "tm.so"
loadmodule "tmx.so"
loadmodule "sl.so"
loadmodule "rr.so"
loadmodule "pv.so"
loadmodule "maxfwd.so"
loadmodule "textops.so"
loadmodule "siputils.so"
loadmodule "xlog.so"
loadmodule "sanity.so"
loadmodule "ctl.so"
loadmodule "usrloc.so"
loadmodule "registrar.so"
loadmodule "path.so"
# RFC 5626 §4.4.2 keep-alives: answers the STUN binding requests that
# UAs with outbound send on the SIP UDP port when Kamailio is their
# first hop
loadmodule "stun.so"

# kamcmd's socket in the test's directory, not /run/kamailio
modparam("ctl", "binrpc", "unix:@WORK@/kamailio_ctl")

modparam("tm", "failure_reply_mode", 3)
# a dead branch fails within the tests' patience, not after 30 s
modparam("tm", "fr_timer", 5000)
modparam("tm", "fr_inv_timer", 20000)

modparam("rr", "append_fromtag", 0)
modparam("rr", "enable_double_rr", 1)

modparam("usrloc", "db_mode", 0)
modparam("usrloc", "use_domain", 0)
modparam("usrloc", "timer_interval", 10)

modparam("registrar", "use_path", 1)
modparam("registrar", "path_mode", @PATHMODE@)
modparam("registrar", "path_use_received", 0)
modparam("registrar", "outbound_mode", 1)
modparam("registrar", "gruu_enabled", 0)
modparam("registrar", "max_expires", 3600)
modparam("registrar", "min_expires", 10)

request_route {
	xlog("L_INFO", "req $rm $ru from $proto:$si:$sp\n");
	if (!mf_process_maxfwd_header("10")) {
		sl_send_reply("483", "Too Many Hops");
		exit;
	}
	if (!sanity_check("1511", "7")) {
		xlog("L_WARN", "malformed request from $si:$sp\n");
		exit;
	}
	if (is_method("CANCEL")) {
		if (t_check_trans())
			route(RELAY);
		exit;
	}
	route(WITHINDLG);
	t_check_trans();

	if (is_method("OPTIONS") && uri == myself && $rU == $null) {
		sl_send_reply("200", "Keepalive");
		exit;
	}
	if (is_method("REGISTER")) {
		if (uri != myself) {
			sl_send_reply("403", "Not Our Domain");
			exit;
		}
		# a REGISTER is for us: an edge proxy's pre-loaded Route
		# (to this registrar) is consumed here
		remove_hf("Route");
		if (!save("location")) {
			xlog("L_WARN", "save(location) failed for $tu\n");
			sl_reply_error();
		}
		exit;
	}
	# initial requests: our own Route (pre-loaded by a phone or an edge
	# proxy that routes to us) is consumed; a further Route is followed
	if (loose_route()) {
		xlog("L_INFO", "initial request: Route processed, du=$du\n");
	}
	if (is_method("INVITE|SUBSCRIBE|REFER"))
		record_route();
	if (uri == myself) {
		if ($rU == $null) {
			sl_send_reply("484", "Address Incomplete");
			exit;
		}
		route(LOCATION);
	}
	route(RELAY);
}

route[RELAY] {
	if (!t_relay()) {
		xlog("L_WARN", "t_relay failed for $ru\n");
		sl_reply_error();
	}
	exit;
}

route[WITHINDLG] {
	if (!has_totag())
		return;
	if (loose_route()) {
		route(RELAY);
	}
	if (is_method("ACK")) {
		if (t_check_trans())
			route(RELAY);
		exit;
	}
	sl_send_reply("404", "Not Here");
	exit;
}

route[LOCATION] {
	if (!lookup("location")) {
		$var(rc) = $rc;
		t_newtran();
		switch ($var(rc)) {
		case -1:
		case -3:
			t_reply("404", "Not Found");
			exit;
		case -2:
			t_reply("405", "Method Not Allowed");
			exit;
		}
		t_reply("500", "Lookup Failed");
		exit;
	}
	xlog("L_INFO", "lookup $tu -> ru=$ru du=$du\n");
	t_on_branch_failure("FLOW");
	route(RELAY);
}

# RFC 5626 §5.3: a flow the edge proxy reports failed (430),
# the only answer that says the binding is dead, is dropped from the
# location table. (Not 403: e2mproxyd's policy answers a single request
# for a phone 403, and the phone must stay registered.)
event_route[tm:branch-failure:FLOW] {
	if (t_check_status("430")) {
		xlog("L_INFO", "branch $T_reply_code: unregistering $tu ruid $T_reply_ruid\n");
		unregister("location", "$tu", "$T_reply_ruid");
	}
}

onreply_route {
	xlog("L_INFO", "reply $rs $rr for $rm from $proto:$si:$sp\n");
}
KAMCFG
}

kam_cmd() {
	"$KAMCMD" -s "unix:$WORK/kamailio_ctl" "$@"
}

# kam_options PROTO PORT: Kamailio answers an OPTIONS to itself with 200
kam_options() {
	local f="$WORK/kam-options.$RANDOM.sip" r=$RANDOM$RANDOM v
	v=$(echo "$1" | tr '[:lower:]' '[:upper:]')
	printf 'OPTIONS sip:127.0.0.1:%s SIP/2.0\r\nVia: SIP/2.0/%s 127.0.0.1:9;rport;branch=z9hG4bK-kam-%s\r\nFrom: <sip:probe@127.0.0.1>;tag=k%s\r\nTo: <sip:127.0.0.1:%s>\r\nCall-ID: kam-%s@test\r\nCSeq: 1 OPTIONS\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n' \
		"$2" "$v" "$r" "$r" "$2" "$r" > "$f"
	python3 "$TOP_SRCDIR/tests/integration/sipraw.py" "$1" 127.0.0.1 "$2" "$f" 1 |
		grep -q '^SIP/2.0 200 '
	set -- $? "$f"
	rm -f "$2"
	return "$1"
}

kam_start() {
	local port=$1 i log="$WORK/kamailio.log"
	command -v "$KAMAILIO" >/dev/null 2>&1 || {
		echo "# kamailio is not installed (scripts/deps.sh installs it)"
		return 1
	}
	KAM_PORT=$port
	kam_write_cfg "$port"
	if ! "$KAMAILIO" -c -f "$WORK/kamailio.cfg" > "$WORK/kamailio-check.log" 2>&1; then
		echo "# kamailio.cfg does not pass kamailio -c:"
		sed 's/^/#   /' "$WORK/kamailio-check.log"
		return 1
	fi
	# -DD: no daemon, but children (TCP needs them); -E: log to stderr;
	# small shared/private memory: a test registrar, on a shared machine
	"$KAMAILIO" -DD -E -m 32 -M 4 -P "$WORK/kamailio.pid" \
		-f "$WORK/kamailio.cfg" > "$log" 2>&1 &
	KAM_PID=$!
	PIDS="$PIDS $KAM_PID"
	for i in $(seq 1 100); do
		if ! kill -0 "$KAM_PID" 2>/dev/null; then
			break
		fi
		if [ -S "$WORK/kamailio_ctl" ] && kam_cmd core.version >/dev/null 2>&1 &&
		    kam_options udp "$port" && kam_options tcp "$port"; then
			return 0
		fi
		sleep 0.2
	done
	echo "# kamailio did not start (or does not answer OPTIONS):"
	tail -n 40 "$log" | sed 's/^/#   /'
	return 1
}

kam_wait_contact() {
	local aor=$1 re=$2 limit=$((${3:-10} * 5)) i
	for i in $(seq 1 "$limit"); do
		kam_cmd ul.dump 2>/dev/null |
			awk -v aor="$aor" '/AoR:/ { on = ($2 == aor) } on' |
			grep -Eq -- "$re" && return 0
		sleep 0.2
	done
	return 1
}

kam_stop() {
	[ -n "$KAM_PID" ] || return 0
	kill "$KAM_PID" 2>/dev/null
	wait_pid "$KAM_PID" 10 >/dev/null 2>&1
	KAM_PID=""
}
