/* test_pinhole.c - which pinholes dialogs get, within networks and caps. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "services/pinhole.h"
#include "t.h"

static struct netaddr nets[2];
static const struct pinhole_range ranges[] = { { 1024, 5999 },
	{ 49152, 65535 } };
static struct pinhole_changes ch;

static struct pinhole_conf
conf(void)
{
	struct pinhole_conf c;

	netaddr_parse(&nets[0], "192.0.2.0/24");
	netaddr_parse(&nets[1], "2001:db8::/32");
	memset(&c, 0, sizeof(c));
	c.nets = nets;
	c.nnets = 2;
	c.ranges = ranges;
	c.nranges = 2;
	c.max_nports = 2;
	c.max_per_dialog = 16;
	c.max_total = 100;
	c.max_dialogs = 10;
	c.max_duration_ms = 10000;
	c.refresh_ms = 1000;
	memcpy(c.seed, "0123456789abcdef", 16);
	return c;
}

static struct pinhole_table *
table(const struct pinhole_conf *c)
{
	const char *why;
	struct pinhole_table *t = pinhole_new(c, &why);

	if (t == NULL) {
		printf("# pinhole_new: %s\n", why);
		exit(1);
	}
	return t;
}

/* SDP text -> media (buffer b of two, so that both sides can be held). */
static struct sdp_media media[2][SDP_MAX_MEDIA];

static size_t
sdp(int b, const char *text)
{
	const char *why;
	size_t n;

	if (sdp_parse(text, strlen(text), media[b], SDP_MAX_MEDIA, &n,
	    &why) != SDP_OK) {
		printf("# bad test SDP (%s): %s\n", why, text);
		exit(1);
	}
	return n;
}

/* Report one side from SDP text; the return of pinhole_set_media. */
static int
report(struct pinhole_table *t, const char *key, enum pinhole_side side,
    const char *text, uint64_t now)
{
	int b = side == PINHOLE_CALLEE; /* side may be a bad value */
	size_t n = sdp(b, text);

	pinhole_changes_clear(&ch);
	return pinhole_set_media(t, key, side, media[b], n, now, &ch);
}

/* The holes of a change list as "udp 192.0.2.1 49170,udp ..." */
static const char *
list(const struct pinhole_hole *h, size_t n)
{
	static char out[2048];
	char one[PINHOLE_STRLEN];
	size_t i, len = 0;

	out[0] = '\0';
	for (i = 0; i < n; i++)
		len += (size_t)snprintf(out + len, sizeof(out) - len, "%s%s",
		    i ? "," : "", pinhole_hole_str(&h[i], one, sizeof(one)));
	return out;
}

/* The refusals as "SIDE/MEDIA:REASON:port,..." */
static const char *
refusals(void)
{
	static char out[2048];
	size_t i, len = 0;

	out[0] = '\0';
	for (i = 0; i < ch.nrefused; i++)
		len += (size_t)snprintf(out + len, sizeof(out) - len,
		    "%s%d/%u:%d:%u", i ? "," : "", (int)ch.refused[i].side,
		    ch.refused[i].media, (int)ch.refused[i].reason,
		    ch.refused[i].hole.port);
	return out;
}

static const char offer[] = "v=0\no=alice 1 1 IN IP4 192.0.2.101\ns=-\n"
			    "c=IN IP4 192.0.2.101\nt=0 0\n"
			    "m=audio 49172 RTP/AVP 0\n";
static const char answer[] = "v=0\no=bob 1 1 IN IP4 192.0.2.201\ns=-\n"
			     "c=IN IP4 192.0.2.201\nt=0 0\n"
			     "m=audio 3456 RTP/AVP 0\n";

static void
test_conf(void)
{
	struct pinhole_conf c;
	struct pinhole_range bad[] = { { 0, 10 }, { 20, 10 }, { 1, 65536 } };
	const char *why;
	size_t i;

	c = conf();
	c.nnets = 0;
	T_OK(pinhole_new(&c, &why) == NULL && strstr(why, "network") != NULL,
	    "conf: no networks is refused");
	c = conf();
	c.nranges = 0;
	T_OK(pinhole_new(&c, &why) == NULL, "conf: no port ranges is refused");
	for (i = 0; i < 3; i++) {
		c = conf();
		c.ranges = &bad[i];
		c.nranges = 1;
		T_OK(pinhole_new(&c, &why) == NULL &&
		    strcmp(why, "bad media port range") == 0,
		    "conf: a bad port range is refused");
	}
	c = conf();
	c.max_nports = PINHOLE_MAX_NPORTS + 1;
	T_OK(pinhole_new(&c, &why) == NULL, "conf: max_nports too big");
	c = conf();
	c.max_per_dialog = 0;
	T_OK(pinhole_new(&c, &why) == NULL, "conf: max_per_dialog 0");
	c = conf();
	c.refresh_ms = 0;
	T_OK(pinhole_new(&c, &why) == NULL, "conf: refresh_ms 0");
	c = conf();
	c.max_total = 0;
	T_OK(pinhole_new(&c, &why) == NULL, "conf: max_total 0");
	pinhole_free(NULL);
}

static void
test_call(void)
{
	struct pinhole_conf c = conf();
	struct pinhole_table *t = table(&c);
	struct pinhole_hole h[8];
	struct pinhole_stats st;

	T_EQ_INT(report(t, "d1", PINHOLE_CALLER, offer, 0), 0, "offer: ok");
	T_EQ_STR(list(ch.add, ch.nadd),
	    "udp 192.0.2.101 49172,udp 192.0.2.101 49173",
	    "offer: the caller's RTP and RTCP");
	T_EQ_INT(ch.ndel + ch.nrefused, 0, "offer: nothing removed or refused");
	T_EQ_INT(report(t, "d1", PINHOLE_CALLEE, answer, 10), 0, "answer: ok");
	T_EQ_STR(list(ch.add, ch.nadd),
	    "udp 192.0.2.201 3456,udp 192.0.2.201 3457",
	    "answer: the callee's RTP and RTCP, only");
	T_EQ_INT(ch.ndel, 0, "answer: nothing removed");
	T_EQ_INT(pinhole_dialog_holes(t, "d1", h, 8), 4, "the dialog has 4");
	T_OK(pinhole_exists(t, "d1") && !pinhole_exists(t, "d2"),
	    "pinhole_exists: d1 known, d2 not");
	pinhole_stats(t, &st);
	T_OK(st.dialogs == 1 && st.holes == 4, "stats: 1 dialog, 4 holes");

	T_EQ_INT(report(t, "d1", PINHOLE_CALLEE, answer, 20), 0,
	    "the same answer again: ok");
	T_EQ_INT(ch.nadd + ch.ndel, 0, "the same answer again: no change");

	pinhole_changes_clear(&ch);
	T_EQ_INT(pinhole_close(t, "d1", &ch), 0, "close: ok");
	T_EQ_STR(list(ch.del, ch.ndel),
	    "udp 192.0.2.101 49172,udp 192.0.2.101 49173,"
	    "udp 192.0.2.201 3456,udp 192.0.2.201 3457",
	    "close: every hole removed");
	pinhole_stats(t, &st);
	T_OK(st.dialogs == 0 && st.holes == 0, "stats: empty after close");
	pinhole_changes_clear(&ch);
	T_EQ_INT(pinhole_close(t, "d1", &ch), 0, "close again: ok");
	T_EQ_INT(ch.ndel, 0, "close again: nothing");
	T_EQ_INT(pinhole_dialog_holes(t, "d1", h, 8), 0, "closed: no holes");
	T_OK(!pinhole_exists(t, "d1"), "pinhole_exists: a closed dialog is gone");
	pinhole_free(t);
}

static void
test_hostile(void)
{
	struct pinhole_conf c = conf();
	struct pinhole_table *t = table(&c);
	struct pinhole_stats st;

	T_EQ_INT(report(t, "h", PINHOLE_CALLER,
	    "v=0\ns=-\nc=IN IP4 10.0.0.1\nt=0 0\n"
	    "m=audio 49172 RTP/AVP 0\n"                          /* 0 */
	    "m=audio 22 RTP/AVP 0\nc=IN IP4 192.0.2.1\n"         /* 1 */
	    "m=message 2000 TCP/MSRP *\nc=IN IP4 192.0.2.1\n"    /* 2 */
	    "m=audio 2000 RTP/AVP 0\nc=IN IP4 224.2.1.1/16\n"    /* 3 */
	    "m=audio 2000 RTP/AVP 0\nc=IN IP4 evil.example\n"    /* 4 */
	    "m=audio 2000 RTP/AVP 0\nc=IN IP4 0.0.0.0\n"         /* 5 */
	    "m=audio 2000 RTP/AVP 0\nc=IN IP6 ::ffff:192.0.2.1\n" /* 6 */
	    "m=audio 2000/3 RTP/AVP 0\nc=IN IP4 192.0.2.1\n"     /* 7 */
	    "m=audio 2000 DCCP/RTP/AVP 0\nc=IN IP4 192.0.2.1\n"  /* 8 */
	    "m=audio 2000 RTP/AVP 0\nc=IN IP6 2001:db9::1\n"     /* 9 */
	    "m=audio 0 RTP/AVP 0\n"                              /* 10 */
	    "m=audio 5999 RTP/AVP 0\nc=IN IP4 192.0.2.1\n"       /* 11 */
	    "m=audio 2000 RTP/AVP 0\nc=IN IP4 192.0.2.1\n"       /* 12 */
	    "a=rtcp:1023\n"
	    "m=audio 2000 RTP/AVP 0\n",                          /* 13 */
	    0), 0, "hostile offer: ok");
	T_EQ_STR(refusals(),
	    "0/0:4:49172,0/0:4:49173,"   /* outside the networks */
	    "0/1:5:22,0/1:5:23,"         /* port 22 */
	    "0/2:6:2000,"                /* TCP */
	    "0/3:2:2000,0/3:2:2001,"     /* multicast */
	    "0/4:1:2000,0/4:1:2001,"     /* a name */
	    "0/5:3:2000,0/5:3:2001,"     /* 0.0.0.0 */
	    "0/6:3:2000,0/6:3:2001,"     /* v4-mapped */
	    "0/7:7:2000,"                /* 3 ports */
	    "0/8:6:2000,0/8:6:2001,"     /* unknown transport */
	    "0/9:4:2000,0/9:4:2001,"     /* outside the IPv6 network */
	    "0/11:5:6000,"               /* RTCP past the range */
	    "0/12:5:1023,"               /* a=rtcp below it */
	    "0/13:4:2000,0/13:4:2001",   /* session c= 10.0.0.1 */
	    "hostile offer: each refusal with its stream and reason");
	T_EQ_STR(list(ch.add, ch.nadd),
	    "udp 192.0.2.1 5999,udp 192.0.2.1 2000",
	    "hostile offer: only what the policy allows");
	pinhole_stats(t, &st);
	T_EQ_INT(st.refused[PINHOLE_R_NETWORK], 6, "stats: 6 outside");
	T_EQ_INT(st.refused[PINHOLE_R_PORT], 4, "stats: 4 bad ports");
	T_EQ_INT(st.refused[PINHOLE_R_TRANSPORT], 3, "stats: 3 transports");
	T_EQ_INT(st.refused[PINHOLE_R_NPORTS], 1, "stats: 1 port count");
	T_EQ_STR(pinhole_reason_str(PINHOLE_R_PORT),
	    "port outside the media port ranges", "reason names");
	T_EQ_STR(pinhole_reason_str(PINHOLE_R_COUNT), "?", "no reason name");
	pinhole_free(t);

	c.allow_tcp = 1;
	t = table(&c);
	T_EQ_INT(report(t, "tcp", PINHOLE_CALLER,
	    "v=0\ns=-\nc=IN IP4 192.0.2.1\nt=0 0\nm=message 2000 TCP/MSRP *\n"
	    "m=audio 3000 TCP/RTP/AVP 0\n", 0), 0, "TCP allowed: ok");
	T_EQ_STR(list(ch.add, ch.nadd),
	    "tcp 192.0.2.1 2000,tcp 192.0.2.1 3000,tcp 192.0.2.1 3001",
	    "TCP allowed: TCP holes");
	pinhole_free(t);
}

static void
test_streams(void)
{
	struct pinhole_conf c = conf();
	struct pinhole_table *t = table(&c);

	T_EQ_INT(report(t, "s", PINHOLE_CALLER,
	    "v=0\ns=-\nc=IN IP4 192.0.2.1\nt=0 0\n"
	    "m=audio 2000 RTP/AVP 0\na=inactive\n"
	    "m=video 2010/2 RTP/AVP 31\na=rtcp:3000 IN IP4 192.0.2.9\n"
	    "m=audio 2020 RTP/AVP 0\na=rtcp-mux\n"
	    "m=image 2030 udptl t38\n"
	    "m=audio 2040/2 udp 0\n"
	    "m=audio 2050 RTP/AVP 0\nc=IN IP6 2001:db8::5\n",
	    0), 0, "streams: ok");
	T_EQ_STR(list(ch.add, ch.nadd),
	    "udp 192.0.2.1 2010,udp 192.0.2.9 3000,"
	    "udp 192.0.2.1 2012,udp 192.0.2.1 2013,"
	    "udp 192.0.2.1 2020,udp 192.0.2.1 2030,"
	    "udp 192.0.2.1 2040,udp 192.0.2.1 2041,"
	    "udp 2001:db8::5 2050,udp 2001:db8::5 2051",
	    "streams: inactive none, 2 RTP pairs, a=rtcp, mux, udptl, udp/2, "
	    "IPv6");
	T_EQ_INT(ch.nrefused, 0, "streams: nothing refused");

	/* the answer: stream 0 active, 1 rejected, 2 without rtcp-mux */
	T_EQ_INT(report(t, "s", PINHOLE_CALLEE,
	    "v=0\ns=-\nc=IN IP4 192.0.2.2\nt=0 0\n"
	    "m=audio 4000 RTP/AVP 0\nm=video 0 RTP/AVP 31\n"
	    "m=audio 4020 RTP/AVP 0\n", 10), 0, "streams answer: ok");
	T_EQ_STR(list(ch.del, ch.ndel),
	    "udp 192.0.2.1 2010,udp 192.0.2.9 3000,"
	    "udp 192.0.2.1 2012,udp 192.0.2.1 2013",
	    "streams answer: the rejected video closes on the caller's side");
	T_EQ_STR(list(ch.add, ch.nadd),
	    "udp 192.0.2.1 2021,udp 192.0.2.2 4000,udp 192.0.2.2 4001,"
	    "udp 192.0.2.2 4020,udp 192.0.2.2 4021",
	    "streams answer: no mux agreed, so RTCP for both; the callee's "
	    "inactive-offered stream opens");

	/* a re-INVITE from the callee: mux on both sides now, video gone */
	T_EQ_INT(report(t, "s", PINHOLE_CALLEE,
	    "v=0\ns=-\nc=IN IP4 192.0.2.2\nt=0 0\n"
	    "m=audio 4000 RTP/AVP 0\nm=video 0 RTP/AVP 31\n"
	    "m=audio 4020 RTP/AVP 0\na=rtcp-mux\n", 20), 0, "mux agreed: ok");
	T_EQ_STR(list(ch.del, ch.ndel), "udp 192.0.2.1 2021,udp 192.0.2.2 4021",
	    "mux agreed: both RTCP holes of stream 2 close");
	T_EQ_INT(ch.nadd, 0, "mux agreed: nothing new");

	/* the caller moves stream 0 to another port; the rest stays */
	T_EQ_INT(report(t, "s", PINHOLE_CALLER,
	    "v=0\ns=-\nc=IN IP4 192.0.2.1\nt=0 0\n"
	    "m=audio 2100 RTP/AVP 0\n"
	    "m=video 0 RTP/AVP 31\n"
	    "m=audio 2020 RTP/AVP 0\na=rtcp-mux\n"
	    "m=image 2030 udptl t38\n"
	    "m=audio 2040/2 udp 0\n"
	    "m=audio 2050 RTP/AVP 0\nc=IN IP6 2001:db8::5\n",
	    30), 0, "move: ok");
	T_EQ_STR(list(ch.add, ch.nadd),
	    "udp 192.0.2.1 2100,udp 192.0.2.1 2101", "move: the new port");
	T_EQ_INT(ch.ndel, 0, "move: nothing removed (stream 0 was inactive)");

	/* fewer streams: the caller drops the last three */
	T_EQ_INT(report(t, "s", PINHOLE_CALLER,
	    "v=0\ns=-\nc=IN IP4 192.0.2.1\nt=0 0\nm=audio 2100 RTP/AVP 0\n"
	    "m=video 0 RTP/AVP 31\nm=audio 2020 RTP/AVP 0\na=rtcp-mux\n",
	    40), 0, "fewer streams: ok");
	T_EQ_STR(list(ch.del, ch.ndel),
	    "udp 192.0.2.1 2030,udp 192.0.2.1 2040,udp 192.0.2.1 2041,"
	    "udp 2001:db8::5 2050,udp 2001:db8::5 2051",
	    "fewer streams: their holes close");
	T_EQ_INT(ch.nadd, 0, "fewer streams: nothing new");

	/* no media at all */
	pinhole_changes_clear(&ch);
	T_EQ_INT(pinhole_set_media(t, "s", PINHOLE_CALLER, NULL, 0, 50, &ch),
	    0, "no media: ok");
	T_EQ_STR(list(ch.del, ch.ndel), "udp 192.0.2.1 2100,udp 192.0.2.1 2101,"
	    "udp 192.0.2.1 2020", "no media: the caller's holes close");
	pinhole_free(t);
}

static void
test_sharing(void)
{
	struct pinhole_conf c = conf();
	struct pinhole_table *t = table(&c);
	struct pinhole_stats st;

	report(t, "a", PINHOLE_CALLER, offer, 0);
	T_EQ_INT(ch.nadd, 2, "shared: the first dialog adds 2");
	T_EQ_INT(report(t, "b", PINHOLE_CALLER, offer, 0), 0, "shared: ok");
	T_EQ_INT(ch.nadd, 0, "shared: the second adds none");
	pinhole_stats(t, &st);
	T_OK(st.dialogs == 2 && st.holes == 2, "shared: 2 dialogs, 2 holes");
	pinhole_changes_clear(&ch);
	pinhole_close(t, "a", &ch);
	T_EQ_INT(ch.ndel, 0, "shared: closing the first removes none");
	pinhole_changes_clear(&ch);
	pinhole_close(t, "b", &ch);
	T_EQ_INT(ch.ndel, 2, "shared: closing the last removes them");

	/* both sides announce the same endpoint: one hole */
	report(t, "same", PINHOLE_CALLER, offer, 0);
	report(t, "same", PINHOLE_CALLEE, offer, 0);
	T_EQ_INT(ch.nadd, 0, "same endpoint twice in a dialog: no new hole");
	pinhole_changes_clear(&ch);
	pinhole_close(t, "same", &ch);
	T_EQ_INT(ch.ndel, 2, "same endpoint twice: removed once");

	/* a moved side lets go of a hole the other dialog still needs */
	report(t, "a", PINHOLE_CALLER, offer, 0);
	report(t, "b", PINHOLE_CALLER, offer, 0);
	report(t, "a", PINHOLE_CALLER, answer, 0);
	T_OK(ch.nadd == 2 && ch.ndel == 0,
	    "shared: moving one dialog removes nothing the other holds");
	report(t, "b", PINHOLE_CALLER, answer, 0);
	T_OK(ch.nadd == 0 && ch.ndel == 2,
	    "shared: moving the other too removes the old holes");
	pinhole_free(t);
}

static void
test_caps(void)
{
	struct pinhole_conf c = conf();
	struct pinhole_table *t;
	const char *two = "v=0\ns=-\nc=IN IP4 192.0.2.1\nt=0 0\n"
			  "m=audio 2000 RTP/AVP 0\nm=audio 2002 RTP/AVP 0\n";
	char key[PINHOLE_MAX_KEY + 2];

	c.max_per_dialog = 3;
	c.max_total = 5;
	c.max_dialogs = 3;
	t = table(&c);
	T_EQ_INT(report(t, "a", PINHOLE_CALLER, two, 0), 0, "cap: ok");
	T_EQ_INT(ch.nadd, 3, "per-dialog cap: 3 holes");
	T_EQ_STR(refusals(), "0/1:8:2003", "per-dialog cap: the 4th refused");
	T_EQ_INT(report(t, "b", PINHOLE_CALLER,
	    "v=0\ns=-\nc=IN IP4 192.0.2.7\nt=0 0\nm=audio 2000 RTP/AVP 0\n"
	    "m=audio 2002 udp 0\n", 0), 0, "total cap: ok");
	T_EQ_STR(list(ch.add, ch.nadd),
	    "udp 192.0.2.7 2000,udp 192.0.2.7 2001",
	    "total cap: 2 more make 5");
	T_EQ_STR(refusals(), "0/1:9:2002", "total cap: the 6th refused");
	T_EQ_INT(report(t, "c", PINHOLE_CALLER, two, 0), 0,
	    "total cap: holes that exist are no new ones");
	T_EQ_INT(ch.nadd + ch.nrefused, 1, "  ... only the dialog cap bites");
	T_EQ_INT(report(t, "d", PINHOLE_CALLER, two, 0), -1,
	    "max_dialogs: a 4th dialog is refused");
	T_EQ_INT(errno, ENOSPC, "max_dialogs: ENOSPC");
	T_EQ_INT(report(t, "c", PINHOLE_CALLEE, answer, 0), 0,
	    "max_dialogs: a known dialog is still served");
	pinhole_changes_clear(&ch);
	pinhole_close(t, "a", &ch);
	pinhole_close(t, "c", &ch);
	T_EQ_INT(ch.ndel, 3, "close a and c: their 3 holes go");
	T_EQ_INT(report(t, "b", PINHOLE_CALLER,
	    "v=0\ns=-\nc=IN IP4 192.0.2.7\nt=0 0\nm=audio 2000 RTP/AVP 0\n"
	    "m=audio 2002 udp 0\n", 0), 0, "total cap: room again");
	T_EQ_STR(list(ch.add, ch.nadd), "udp 192.0.2.7 2002",
	    "total cap: the refused hole opens when reported again");

	T_EQ_INT(report(t, NULL, PINHOLE_CALLER, two, 0), -1, "NULL key");
	T_EQ_INT(errno, EINVAL, "NULL key: EINVAL");
	memset(key, 'k', sizeof(key));
	key[PINHOLE_MAX_KEY + 1] = '\0';
	T_EQ_INT(report(t, key, PINHOLE_CALLER, two, 0), -1, "key too long");
	key[PINHOLE_MAX_KEY] = '\0';
	T_EQ_INT(report(t, key, PINHOLE_CALLER, two, 0), 0,
	    "key of PINHOLE_MAX_KEY bytes");
	T_EQ_INT(report(t, "x", (enum pinhole_side)2, two, 0), -1, "bad side");
	T_EQ_INT(pinhole_set_media(t, "x", PINHOLE_CALLER, media[0],
	    SDP_MAX_MEDIA + 1, 0, &ch), -1, "too many media");
	pinhole_free(t);
}

static void
test_time(void)
{
	struct pinhole_conf c = conf();
	struct pinhole_table *t = table(&c);
	struct pinhole_stats st;

	report(t, "old", PINHOLE_CALLER, offer, 0);
	report(t, "new", PINHOLE_CALLER, answer, 500);
	pinhole_changes_clear(&ch);
	T_EQ_INT(pinhole_due(t, 999, &ch), 0, "refresh: none due at 999");
	T_EQ_INT(pinhole_due(t, 1000, &ch), 2, "refresh: 2 due at 1000");
	T_EQ_STR(list(ch.refresh, ch.nrefresh),
	    "udp 192.0.2.101 49172,udp 192.0.2.101 49173",
	    "refresh: the older dialog's");
	pinhole_changes_clear(&ch);
	T_EQ_INT(pinhole_due(t, 1500, &ch), 2, "refresh: 2 due at 1500");
	T_EQ_STR(list(ch.refresh, ch.nrefresh),
	    "udp 192.0.2.201 3456,udp 192.0.2.201 3457",
	    "refresh: the newer dialog's");
	T_EQ_INT(pinhole_due(t, 1999, &ch), 0, "refresh: none at 1999");
	T_EQ_INT(pinhole_due(t, 5000, &ch), 4,
	    "refresh: a late call refreshes each hole once");
	pinhole_changes_clear(&ch);
	T_EQ_INT(pinhole_expire(t, 9999, &ch), 0, "expire: none at 9999");
	T_EQ_INT(pinhole_expire(t, 10000, &ch), 1, "expire: the old at 10000");
	T_EQ_STR(list(ch.del, ch.ndel),
	    "udp 192.0.2.101 49172,udp 192.0.2.101 49173",
	    "expire: the old dialog's holes removed");
	pinhole_changes_clear(&ch);
	T_EQ_INT(pinhole_due(t, 6000, &ch), 2,
	    "refresh: removed holes are not due");
	T_EQ_INT(pinhole_expire(t, 10499, &ch), 0, "expire: the new lives");
	T_EQ_INT(report(t, "new", PINHOLE_CALLEE, offer, 10400), 0,
	    "expire: a later report does not extend a dialog");
	T_EQ_INT(pinhole_expire(t, 10500, &ch), 1, "expire: the new at 10500");
	pinhole_stats(t, &st);
	T_OK(st.dialogs == 0 && st.holes == 0, "expire: table empty");

	report(t, "x", PINHOLE_CALLER, offer, 20000);
	report(t, "y", PINHOLE_CALLER, answer, 20001);
	pinhole_changes_clear(&ch);
	T_EQ_INT(pinhole_expire(t, UINT64_MAX, &ch), 2,
	    "shutdown: UINT64_MAX closes every dialog");
	T_EQ_INT(ch.ndel, 4, "shutdown: and removes every hole");
	pinhole_free(t);
}

/* RFC 4028 session timers: a shorter life than max_duration, moved by
 * refreshes, removed by a 2xx without Session-Expires. */
static void
test_session(void)
{
	struct pinhole_conf c = conf();
	struct pinhole_table *t = table(&c);
	struct pinhole_stats st;

	T_EQ_INT(pinhole_session(t, "none", 100), -1,
	    "session: unknown dialog refused");
	report(t, "a", PINHOLE_CALLER, offer, 0);
	report(t, "b", PINHOLE_CALLER, answer, 0);
	report(t, "c", PINHOLE_CALLER, offer, 0);
	T_EQ_INT(pinhole_session(t, "a", 3000), 0, "session: a ends at 3000");
	T_EQ_INT(pinhole_session(t, "b", 4000), 0, "session: b ends at 4000");
	T_EQ_INT(pinhole_session(t, "c", 2000), 0, "session: c ends at 2000");
	T_EQ_INT(pinhole_session(t, "c", 0), 0, "session: c's timer off");
	pinhole_changes_clear(&ch);
	T_EQ_INT(pinhole_expire(t, 2999, &ch), 0, "session: none at 2999");
	T_EQ_INT(pinhole_session(t, "a", 5000), 0, "session: a refreshed");
	T_EQ_INT(pinhole_expire(t, 4000, &ch), 1, "session: b at 4000");
	T_EQ_STR(list(ch.del, ch.ndel),
	    "udp 192.0.2.201 3456,udp 192.0.2.201 3457",
	    "session: b's holes removed");
	T_EQ_INT(pinhole_close(t, "a", &ch), 0, "session: a closed by BYE");
	pinhole_changes_clear(&ch);
	T_EQ_INT(pinhole_expire(t, 9999, &ch), 0,
	    "session: a closed dialog does not expire again");
	T_OK(pinhole_exists(t, "c"), "session: c lives without a timer");
	T_EQ_INT(pinhole_expire(t, 10000, &ch), 1,
	    "session: max_duration still ends c");
	pinhole_stats(t, &st);
	T_OK(st.dialogs == 0 && st.holes == 0, "session: table empty");
	pinhole_free(t);
}

int
main(void)
{
	pinhole_changes_init(&ch);
	test_conf();
	test_call();
	test_hostile();
	test_streams();
	test_sharing();
	test_caps();
	test_time();
	test_session();
	pinhole_changes_free(&ch);
	return t_done();
}
