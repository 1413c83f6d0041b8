/*
 * uas.c - e2mua's UAS mode (see uas.h).
 */
#define NTA_LEG_MAGIC_T struct uas

#include "ua/uas.h"

#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include <sofia-sip/nta.h>
#include <sofia-sip/nta_tag.h>
#include <sofia-sip/sip_header.h>
#include <sofia-sip/sip_status.h>
#include <sofia-sip/su_tagarg.h>

#include "sip/sipmime.h"
#include "ua/uajson.h"
#include "ua/uamsg.h"
#include "ua/uaopts.h"
#include "ua/uarecv.h"
#include "ua/uareg.h"

#define UNREGISTER_MS 3000 /* the unregistration at exit, at most */

/* Media is not the tool's business: a fixed answer. */
#define SDP_ANSWER "v=0\r\no=e2mua 2 2 IN IP4 127.0.0.1\r\ns=-\r\n" \
	"c=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 49172 RTP/AVP 0\r\n"

struct uas {
	su_root_t *root;
	const struct cms_keys *keys;
	const struct uaopts *o;
	unsigned count, answered;
	int rc;                 /* an exit status decided early, or -1 */
	int sigfd;              /* SIGINT and SIGTERM end the run */
	int sigindex;           /* its registration with the root */
	su_wait_t sigwait[1];
};

static int
recv_status(enum uarecv_status st)
{
	switch (st) {
	case UARECV_OK:
		return 200;
	case UARECV_UNDECIPHERABLE:
		return 493;
	case UARECV_UNSUPPORTED:
		return 415;
	case UARECV_MALFORMED:
		return 400;
	default:
		return 500;
	}
}

static void
print_received(const sip_t *sip, int status, const struct uarecv *r)
{
	const char *method = sip->sip_request->rq_method_name;
	char from[256] = "";

	if (sip->sip_from != NULL)
		url_e(from, sizeof(from), sip->sip_from->a_url);
	from[sizeof(from) - 1] = '\0';
	printf("{\"received\":");
	uajson_string(method);
	printf(",\"from\":");
	uajson_string(from);
	printf(",\"status\":%d,\"decrypted\":%d,\"undecipherable\":%d,"
	    "\"signatures\":%d,\"valid\":%d,\"signer\":", status,
	    r->decrypted, r->undecipherable, r->signatures, r->valid);
	uajson_string(r->signer);
	printf(",\"type\":");
	uajson_string(r->type);
	printf(",\"text\":");
	uajson_string(r->content != NULL ? r->content : "");
	printf("}\n");
	fflush(stdout);
}

/* The Proxy-Inspect-Body and Content-ID header lines of a body. */
static void
body_headers(const struct uamsg_out *b, char *labels, size_t lsize,
    char *cid, size_t csize)
{
	size_t i, n = 0;

	labels[0] = cid[0] = '\0';
	for (i = 0; i < b->nlabels; i++)
		n += (size_t)snprintf(labels + n, n < lsize ? lsize - n : 0,
		    "%sProxy-Inspect-Body: %s", i ? "\r\n" : "", b->labels[i]);
	if (b->content_id != NULL)
		snprintf(cid, csize, "Content-ID: %s", b->content_id);
}

/* 200 with an SDP answer, protected as -e/-x say for the UAS. */
static int
answer_invite(struct uas *u, nta_incoming_t *irq)
{
	const struct uaopts *o = u->o;
	struct uamsg_in in = { .type = "application/sdp",
	    .content = (const uint8_t *)SDP_ANSWER, .len = strlen(SDP_ANSWER),
	    .peer_certs = o->peer_certs, .npeer_certs = o->npeer,
	    .proxies = o->proxies, .nproxies = o->nproxies,
	    .separate = o->separate, .cbc = o->cbc };
	struct uamsg_out b;
	su_home_t home[1] = { SU_HOME_INIT(home) };
	char err[256], labels[2048], cid[160];

	if (uamsg_build(&in, &b, err, sizeof(err)) != 0) {
		fprintf(stderr, "e2mua: %s\n", err);
		uamsg_out_free(&b);
		return 500;
	}
	body_headers(&b, labels, sizeof(labels), cid, sizeof(cid));
	/* In angle brackets, or ;transport= would be a header parameter. */
	nta_incoming_treply(irq, SIP_200_OK, SIPTAG_CONTACT_STR(su_sprintf(home,
	    "<%s>", o->bind)),
	    SIPTAG_CONTENT_TYPE_STR(b.content_type),
	    SIPTAG_CONTENT_DISPOSITION_STR(b.disposition),
	    TAG_IF(cid[0] != '\0', SIPTAG_HEADER_STR(cid)),
	    TAG_IF(labels[0] != '\0', SIPTAG_HEADER_STR(labels)),
	    SIPTAG_PAYLOAD(sip_payload_create(home, b.body, (isize_t)b.len)),
	    TAG_END());
	su_home_deinit(home);
	uamsg_out_free(&b);
	return 0;
}

/* MESSAGE or INVITE: open and check the body; the status to answer. */
static int
open_request(struct uas *u, nta_incoming_t *irq, const sip_t *sip)
{
	msg_t *msg = nta_incoming_getrequest(irq);
	struct mime_headers top;
	struct uarecv r;
	int status;

	sipmime_headers(msg, sip, &top);
	status = recv_status(uarecv_open(u->keys, &top,
	    sip->sip_payload != NULL ? sip->sip_payload->pl_data : NULL,
	    sip->sip_payload != NULL ? sip->sip_payload->pl_len : 0, &r));
	print_received(sip, status, &r);
	uarecv_free(&r);
	msg_destroy(msg);
	if (status == 200 && sip->sip_request->rq_method == sip_method_invite)
		status = answer_invite(u, irq);
	return status;
}

/* Every request that is not for a dialog of ours. */
static int
uas_request(struct uas *u, nta_leg_t *leg, nta_incoming_t *irq,
    const sip_t *sip)
{
	struct uarecv none;
	int status;

	(void)leg;
	switch (sip->sip_request->rq_method) {
	case sip_method_ack:
		return 0;
	case sip_method_bye:
		memset(&none, 0, sizeof(none));
		print_received(sip, 200, &none);
		status = 200;
		break;
	case sip_method_message:
	case sip_method_invite:
		status = open_request(u, irq, sip);
		break;
	default:
		return 501;
	}
	if (u->count != 0 && ++u->answered >= u->count)
		su_root_break(u->root);
	return status;
}

static void
uas_timeout(su_root_magic_t *m, su_timer_t *t, su_timer_arg_t *arg)
{
	(void)m;
	(void)t;
	su_root_break(((struct uas *)arg)->root);
}

/* The first registration failed: nothing will reach us. */
static void
reg_failed(void *arg, int exit_status)
{
	struct uas *u = arg;

	u->rc = exit_status;
	su_root_break(u->root);
}

static int
on_signal(su_root_magic_t *m, su_wait_t *w, su_wakeup_arg_t *arg)
{
	struct uas *u = (struct uas *)arg;
	struct signalfd_siginfo si;

	(void)m;
	(void)w;
	if (read(u->sigfd, &si, sizeof(si)) > 0)
		su_root_break(u->root);
	return 0;
}

/* SIGINT and SIGTERM through the loop, so that the run ends in order
 * (the registration removed) rather than wherever the signal lands. */
static int
watch_signals(struct uas *u)
{
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	if (sigprocmask(SIG_BLOCK, &set, NULL) != 0 ||
	    (u->sigfd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK)) < 0 ||
	    su_wait_create(u->sigwait, u->sigfd, SU_WAIT_IN) != 0 ||
	    (u->sigindex = su_root_register(u->root, u->sigwait, on_signal,
	    (su_wakeup_arg_t *)u, 0)) <= 0)
		return -1;
	return 0;
}

int
uas_run(const struct uaopts *o, const struct cms_keys *keys)
{
	struct uas u = { .keys = keys, .o = o, .count = o->count, .rc = -1,
	    .sigfd = -1 };
	nta_agent_t *nta = NULL;
	nta_leg_t *leg = NULL;
	su_timer_t *timer = NULL;
	struct uareg *reg = NULL;
	int rc = UA_EXIT_LOCAL;

	if ((u.root = su_root_create(NULL)) == NULL ||
	    (nta = nta_agent_create(u.root, URL_STRING_MAKE(o->bind), NULL,
	    NULL, NTATAG_UA(1), TAG_END())) == NULL ||
	    (leg = nta_leg_tcreate(nta, uas_request, &u, NTATAG_NO_DIALOG(1),
	    TAG_END())) == NULL) {
		fprintf(stderr, "e2mua: cannot listen on %s\n", o->bind);
		goto out;
	}
	if (watch_signals(&u) != 0) {
		fprintf(stderr, "e2mua: cannot watch signals\n");
		goto out;
	}
	if (o->registrar != NULL && (reg = uareg_start(nta, u.root, o,
	    reg_failed, &u)) == NULL)
		goto out;
	if (o->timeout > 0) {
		timer = su_timer_create(su_root_task(u.root),
		    o->timeout * 1000);
		su_timer_set(timer, uas_timeout, (su_timer_arg_t *)&u);
	}
	su_root_run(u.root);
	su_timer_reset(timer);
	if (u.rc < 0)
		u.rc = uareg_stop(reg, UNREGISTER_MS);
	else
		uareg_stop(reg, 0); /* never registered: nothing to undo */
	reg = NULL;
	rc = u.rc >= 0 ? u.rc : u.count == 0 || u.answered >= u.count ?
	    UA_EXIT_2XX : UA_EXIT_TIMEOUT;
out:
	uareg_stop(reg, 0);
	su_timer_destroy(timer);
	if (u.sigindex > 0)
		su_root_deregister(u.root, u.sigindex);
	if (u.sigfd >= 0)
		close(u.sigfd);
	if (leg != NULL)
		nta_leg_destroy(leg);
	nta_agent_destroy(nta);
	su_root_destroy(u.root);
	return rc;
}
