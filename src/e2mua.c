/*
 * e2mua.c - the user agent side of end-to-middle security (issue 5), first
 * part: send one MESSAGE whose body is plain, signed, encrypted to the
 * peer, or also disclosed to named proxies (shared or separate envelopes,
 * labelled), and report the final response as one JSON line.
 *
 * Not yet here (issue 5 still open, and the tool says so when asked for
 * them): answering 495/496 challenges, INVITE, UAS mode, the
 * configuration file and the learned-proxy cache.
 *
 * Exit status: 0 for a 2xx, 1 for any other final response, 2 for a bad
 * command line, 3 for a local failure (keys, transport), 4 for a timeout.
 */
#define NTA_OUTGOING_MAGIC_T struct ua

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sofia-sip/nta.h>
#include <sofia-sip/nta_tag.h>
#include <sofia-sip/sip_header.h>
#include <sofia-sip/sip_status.h>
#include <sofia-sip/su_tagarg.h>

#include "cms.h"
#include "uamsg.h"
#include "version.h"

enum { EXIT_2XX = 0, EXIT_FINAL = 1, EXIT_USAGE = 2, EXIT_LOCAL = 3,
	EXIT_TIMEOUT = 4 };

struct ua {
	su_root_t *root;
	int status;
	char phrase[128];
	int done;
};

struct opts {
	const char *to, *from, *proxy, *bind, *type, *text;
	const char *sign_cert, *sign_key;
	const char *peer_certs[8];
	size_t npeer;
	struct uamsg_proxy proxies[UAMSG_MAX_PROXIES];
	size_t nproxies;
	int separate, cbc, signed_data;
	unsigned timeout;
};

static void
usage(void)
{
	fprintf(stderr,
	    "usage: e2mua -t TO-URI [-f FROM-URI] [-o OUTBOUND-PROXY-URI]\n"
	    "             [-b BIND-URI] [-c TYPE] [-m TEXT] [-T SECONDS]\n"
	    "             [-s CERT:KEY] [-d] [-e PEER-CERT]...\n"
	    "             [-x HOST=PROXY-CERT]... [-S] [-C]\n"
	    "  -s  sign with CERT and KEY (PEM); -d: signed-data instead of\n"
	    "      multipart/signed\n"
	    "  -e  encrypt to this certificate (the peer's; repeatable)\n"
	    "  -x  also disclose to this proxy and label it (repeatable)\n"
	    "  -S  separate envelopes for the proxies; -C: AES-CBC\n"
	    "exit: 0 2xx, 1 other final, 2 usage, 3 local error, 4 timeout\n"
	    "Challenges (495/496), INVITE and UAS mode are not implemented yet.\n");
}

static int
split_pair(char *arg, char sep, const char **a, const char **b)
{
	char *p = strchr(arg, sep);

	if (p == NULL || p == arg || p[1] == '\0')
		return -1;
	*p = '\0';
	*a = arg;
	*b = p + 1;
	return 0;
}

static int
parse_opts(int argc, char **argv, struct opts *o)
{
	int ch;

	memset(o, 0, sizeof(*o));
	o->from = "sip:e2mua@localhost";
	o->bind = "sip:127.0.0.1:*";
	o->type = "text/plain";
	o->text = "hello from e2mua";
	o->timeout = 10;
	while ((ch = getopt(argc, argv, "t:f:o:b:c:m:T:s:de:x:SCV")) != -1) {
		switch (ch) {
		case 't': o->to = optarg; break;
		case 'f': o->from = optarg; break;
		case 'o': o->proxy = optarg; break;
		case 'b': o->bind = optarg; break;
		case 'c': o->type = optarg; break;
		case 'm': o->text = optarg; break;
		case 'T': o->timeout = (unsigned)strtoul(optarg, NULL, 10); break;
		case 's':
			if (split_pair(optarg, ':', &o->sign_cert,
			    &o->sign_key) != 0)
				return -1;
			break;
		case 'd': o->signed_data = 1; break;
		case 'e':
			if (o->npeer == 8)
				return -1;
			o->peer_certs[o->npeer++] = optarg;
			break;
		case 'x':
			if (o->nproxies == UAMSG_MAX_PROXIES ||
			    split_pair(optarg, '=', &o->proxies[o->nproxies].host,
			    &o->proxies[o->nproxies].cert_file) != 0)
				return -1;
			o->nproxies++;
			break;
		case 'S': o->separate = 1; break;
		case 'C': o->cbc = 1; break;
		case 'V':
			printf("e2mua %s\n", E2M_VERSION);
			exit(0);
		default:
			return -1;
		}
	}
	return o->to != NULL && optind == argc && o->timeout > 0 ? 0 : -1;
}

static int
on_response(struct ua *ua, nta_outgoing_t *orq, const sip_t *sip)
{
	int status = sip != NULL ? sip->sip_status->st_status :
	    nta_outgoing_status(orq);

	if (status < 200)
		return 0;
	ua->status = status;
	snprintf(ua->phrase, sizeof(ua->phrase), "%s", sip != NULL &&
	    sip->sip_status->st_phrase ? sip->sip_status->st_phrase : "");
	ua->done = 1;
	su_root_break(ua->root);
	return 0;
}

static void
timed_out(su_root_magic_t *m, su_timer_t *t, su_timer_arg_t *arg)
{
	struct ua *ua = (struct ua *)arg;

	(void)m;
	(void)t;
	su_root_break(ua->root);
}

/* The request with the body and labels uamsg made. */
static msg_t *
make_request(nta_agent_t *nta, const struct opts *o, const struct uamsg_out *b)
{
	msg_t *msg = nta_msg_create(nta, 0);
	sip_t *sip = sip_object(msg);
	su_home_t *home = msg_home(msg);
	size_t i;

	if (msg == NULL)
		return NULL;
	if (sip_add_tl(msg, sip,
	    SIPTAG_REQUEST(sip_request_create(home, SIP_METHOD_MESSAGE,
	    URL_STRING_MAKE(o->to), NULL)),
	    SIPTAG_FROM(sip_from_create(home, URL_STRING_MAKE(o->from))),
	    SIPTAG_TO_STR(o->to), SIPTAG_CALL_ID(sip_call_id_create(home,
	    NULL)), SIPTAG_CSEQ(sip_cseq_create(home, 1, SIP_METHOD_MESSAGE)),
	    SIPTAG_MAX_FORWARDS_STR("70"),
	    SIPTAG_CONTENT_TYPE_STR(b->content_type),
	    SIPTAG_CONTENT_DISPOSITION_STR(b->disposition),
	    TAG_IF(b->content_id != NULL, SIPTAG_HEADER_STR(su_sprintf(home,
	    "Content-ID: %s", b->content_id))),
	    SIPTAG_PAYLOAD(sip_payload_create(home, b->body, (isize_t)b->len)),
	    TAG_END()) < 0 || sip_from_tag(home, sip->sip_from,
	    nta_agent_newtag(home, "tag=%s", nta)) < 0) {
		msg_destroy(msg);
		return NULL;
	}
	for (i = 0; i < b->nlabels; i++)
		if (sip_add_tl(msg, sip, SIPTAG_HEADER_STR(su_sprintf(home,
		    "Proxy-Inspect-Body: %s", b->labels[i])), TAG_END()) < 0) {
			msg_destroy(msg);
			return NULL;
		}
	return msg;
}

static void
json_string(const char *s)
{
	putchar('"');
	for (; *s != '\0'; s++) {
		if (*s == '"' || *s == '\\')
			printf("\\%c", *s);
		else if ((unsigned char)*s < 0x20)
			printf("\\u%04x", (unsigned char)*s);
		else
			putchar(*s);
	}
	putchar('"');
}

static int
report(const struct ua *ua, const struct opts *o)
{
	size_t i;

	printf("{\"method\":\"MESSAGE\",\"status\":%d,\"phrase\":", ua->status);
	json_string(ua->done ? ua->phrase : "timeout");
	printf(",\"signed\":%s,\"encrypted\":%s,\"disclosed_to\":[",
	    o->sign_cert != NULL ? "true" : "false",
	    o->npeer > 0 ? "true" : "false");
	for (i = 0; i < o->nproxies; i++) {
		if (i > 0)
			putchar(',');
		json_string(o->proxies[i].host);
	}
	printf("],\"challenges\":0}\n");
	if (!ua->done)
		return EXIT_TIMEOUT;
	return ua->status < 300 ? EXIT_2XX : EXIT_FINAL;
}

static int
build_body(const struct opts *o, struct cms_signing_key **sk,
    struct uamsg_out *b)
{
	struct uamsg_in in = { .type = o->type,
	    .content = (const uint8_t *)o->text, .len = strlen(o->text),
	    .signed_data = o->signed_data, .peer_certs = o->peer_certs,
	    .npeer_certs = o->npeer, .proxies = o->proxies,
	    .nproxies = o->nproxies, .separate = o->separate, .cbc = o->cbc };
	char err[256];

	if (o->sign_cert != NULL && (*sk = cms_signing_key_load(o->sign_cert,
	    o->sign_key, NULL, 0, err, sizeof(err))) == NULL) {
		fprintf(stderr, "e2mua: %s\n", err);
		return -1;
	}
	in.sk = *sk;
	if (uamsg_build(&in, b, err, sizeof(err)) != 0) {
		fprintf(stderr, "e2mua: %s\n", err);
		return -1;
	}
	return 0;
}

static int
send_and_wait(const struct opts *o, const struct uamsg_out *b)
{
	struct ua ua = { 0 };
	nta_agent_t *nta = NULL;
	nta_outgoing_t *orq = NULL;
	su_timer_t *timer = NULL;
	msg_t *msg;
	int rc = EXIT_LOCAL;

	if ((ua.root = su_root_create(NULL)) == NULL ||
	    (nta = nta_agent_create(ua.root, URL_STRING_MAKE(o->bind), NULL,
	    NULL, NTATAG_UA(1), TAG_END())) == NULL) {
		fprintf(stderr, "e2mua: cannot bind %s\n", o->bind);
		goto out;
	}
	if ((msg = make_request(nta, o, b)) == NULL ||
	    (orq = nta_outgoing_mcreate(nta, on_response, &ua,
	    o->proxy != NULL ? URL_STRING_MAKE(o->proxy) : NULL, msg,
	    TAG_END())) == NULL) {
		fprintf(stderr, "e2mua: cannot send the request\n");
		goto out;
	}
	timer = su_timer_create(su_root_task(ua.root), o->timeout * 1000);
	su_timer_set(timer, timed_out, (su_timer_arg_t *)&ua);
	su_root_run(ua.root);
	rc = report(&ua, o);
out:
	su_timer_destroy(timer);
	if (orq != NULL)
		nta_outgoing_destroy(orq);
	nta_agent_destroy(nta);
	su_root_destroy(ua.root);
	return rc;
}

int
main(int argc, char **argv)
{
	struct opts o;
	struct cms_signing_key *sk = NULL;
	struct uamsg_out b;
	int rc;

	if (parse_opts(argc, argv, &o) != 0) {
		usage();
		return EXIT_USAGE;
	}
	memset(&b, 0, sizeof(b));
	if (su_init() != 0)
		return EXIT_LOCAL;
	rc = build_body(&o, &sk, &b) != 0 ? EXIT_LOCAL : send_and_wait(&o, &b);
	uamsg_out_free(&b);
	cms_signing_key_free(sk);
	su_deinit();
	return rc;
}
