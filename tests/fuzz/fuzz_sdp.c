/*
 * fuzz_sdp.c - libFuzzer harness for the SDP reader (services/sdp.c) and
 * the pinhole table behind it (services/pinhole.c). The input is an SDP
 * body; what it yields is checked for the parser's promises, then given to
 * a pinhole table as both sides of a dialog, which must only open holes
 * its policy allows and must remove exactly those when the dialog closes.
 *
 *   ./configure CC=clang --enable-fuzzing && make tests/fuzz/fuzz_sdp
 *   tests/fuzz/fuzz_sdp tests/fuzz/corpus/sdp/
 */
#include <netinet/in.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "common/netaddr.h"
#include "services/pinhole.h"
#include "services/sdp.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check_media(const struct sdp_media *m)
{
	unsigned span;

	if (memchr(m->media, '\0', sizeof(m->media)) == NULL ||
	    memchr(m->transport, '\0', sizeof(m->transport)) == NULL)
		abort();
	if (m->rejected)
		return;
	span = m->rtp ? 2 * m->nports : m->nports;
	if (m->rtp_ep.port == 0 || m->nports == 0 ||
	    m->rtp_ep.port + span - 1 > 65535)
		abort();
	if ((m->rtp_ep.conn == SDP_CONN_IP) != (m->rtp_ep.family != AF_UNSPEC &&
	    m->rtp_ep.conn != SDP_CONN_MULTICAST))
		abort();
	if (m->has_rtcp && (m->rtcp.port == 0 || m->rtcp.port > 65535))
		abort();
}

static struct pinhole_table *
table(void)
{
	static struct netaddr nets[3];
	static const struct pinhole_range ranges[] = { { 1024, 65535 } };
	struct pinhole_conf c;
	const char *why;

	netaddr_parse(&nets[0], "0.0.0.0/0");
	netaddr_parse(&nets[1], "::/0");
	netaddr_parse(&nets[2], "192.0.2.0/24");
	memset(&c, 0, sizeof(c));
	c.nets = nets;
	c.nnets = 3;
	c.ranges = ranges;
	c.nranges = 1;
	c.max_nports = 4;
	c.max_per_dialog = 16;
	c.max_total = 24;
	c.max_dialogs = 4;
	c.max_duration_ms = 1000;
	c.refresh_ms = 100;
	return pinhole_new(&c, &why);
}

/* Every hole the table opens is one its policy allows. */
static void
check_holes(const struct pinhole_changes *ch)
{
	size_t i;

	for (i = 0; i < ch->nadd; i++)
		if (ch->add[i].port < 1024 || ch->add[i].port > 65535 ||
		    ch->add[i].proto != IPPROTO_UDP ||
		    (ch->add[i].family != AF_INET &&
		    ch->add[i].family != AF_INET6))
			abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sdp_media m[8];
	struct pinhole_changes ch;
	struct pinhole_stats st;
	struct pinhole_table *t;
	const char *why = NULL;
	size_t n = 99, i, held;

	if (sdp_parse((const char *)data, size, m, 8, &n, &why) != SDP_OK ||
	    why == NULL || n > 8) {
		if (why == NULL || n > 8)
			abort();
		return 0;
	}
	for (i = 0; i < n; i++)
		check_media(&m[i]);
	if ((t = table()) == NULL)
		abort();
	pinhole_changes_init(&ch);
	if (pinhole_set_media(t, "k", PINHOLE_CALLER, m, n, 0, &ch) != 0 ||
	    pinhole_set_media(t, "k", PINHOLE_CALLEE, m, n / 2, 1, &ch) != 0 ||
	    pinhole_set_media(t, "k", PINHOLE_CALLER, m + n / 2, n - n / 2, 2,
	    &ch) != 0)
		abort();
	check_holes(&ch);
	/* one dialog: what was added and not removed is what it holds */
	pinhole_stats(t, &st);
	held = pinhole_dialog_holes(t, "k", NULL, 0);
	if (ch.nadd != ch.ndel + held || st.holes != held)
		abort();
	if (pinhole_due(t, 500, &ch) != (long)held)
		abort();
	pinhole_changes_clear(&ch);
	if (pinhole_close(t, "k", &ch) != 0 || ch.ndel != held)
		abort();
	pinhole_stats(t, &st);
	if (st.holes != 0 || st.dialogs != 0)
		abort();
	pinhole_changes_free(&ch);
	pinhole_free(t);
	return 0;
}
