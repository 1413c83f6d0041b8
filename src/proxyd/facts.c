/* facts.c - struct policy_facts from a Sofia message and an inspection. */
#include "proxyd/facts.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <netinet/in.h>
#include <string.h>
#include <strings.h>

#include <sofia-sip/msg_addr.h>
#include <sofia-sip/sip_header.h>

#include "e2m/inspect.h"

static enum policy_transport
transport_of(const sip_t *sip)
{
	const char *p = sip->sip_via != NULL ? sip->sip_via->v_protocol : "";

	if (strcasecmp(p, sip_transport_tls) == 0)
		return POLICY_TP_TLS;
	if (strcasecmp(p, sip_transport_tcp) == 0)
		return POLICY_TP_TCP;
	return POLICY_TP_UDP;
}

static enum policy_target_state
target_state(enum inspect_target_state s)
{
	switch (s) {
	case TARGET_OPENED:
		return POLICY_TARGET_OPENED;
	case TARGET_UNDECIPHERABLE:
		return POLICY_TARGET_UNDECIPHERABLE;
	case TARGET_PLAIN:
		return POLICY_TARGET_PLAIN;
	default:
		return POLICY_TARGET_NOT_FOUND;
	}
}

static void
body_facts(struct facts *fx, const struct inspect *in)
{
	struct policy_facts *f = &fx->f;
	const struct inspect_signature *s;
	size_t i, n;

	n = inspect_ntargets(in);
	for (i = 0; i < n && i < FACTS_MAX; i++)
		fx->targets[i] = target_state(inspect_target(in, i)->state);
	f->targets = fx->targets;
	f->ntargets = i;
	f->nclosed = inspect_nclosed(in);
	n = inspect_nvisible(in);
	for (i = 0; i < n && i < FACTS_MAX; i++)
		fx->visible[i] = inspect_visible(in, i);
	f->visible = fx->visible;
	f->nvisible = i;
	n = inspect_nsignatures(in);
	for (i = 0; i < n && i < FACTS_MAX; i++) {
		s = inspect_signature(in, i);
		fx->sigs[i].valid = s->valid;
		fx->sigs[i].inside_envelope = s->inside_envelope;
		fx->sigs[i].over_envelope = s->over_envelope;
		fx->sigs[i].covers_whole = s->covers_whole;
	}
	f->signatures = fx->sigs;
	f->nsignatures = i;
}

void
facts_fill(struct facts *fx, msg_t *req, const sip_t *sip,
    const sip_t *body, const struct inspect *in)
{
	struct policy_facts *f = &fx->f;
	su_addrinfo_t *ai = msg_addrinfo(req);

	memset(fx, 0, sizeof(*fx));
	f->is_response = body->sip_status != NULL;
	strncpy(fx->method, sip->sip_request->rq_method_name,
	    sizeof(fx->method) - 1);
	f->method = fx->method;
	f->in_dialog = sip->sip_to != NULL && sip->sip_to->a_tag != NULL;
	f->ruri_domain = sip->sip_request->rq_url->url_host;
	if (sip->sip_from != NULL) {
		f->from_user = sip->sip_from->a_url->url_user;
		f->from_domain = sip->sip_from->a_url->url_host;
	}
	f->source = ai != NULL ? ai->ai_addr : NULL;
	f->transport = transport_of(sip);
	f->has_body = body->sip_payload != NULL &&
	    body->sip_payload->pl_len > 0;
	if (in != NULL)
		body_facts(fx, in);
}

void
facts_source(msg_t *req, const sip_t *sip, struct facts_source *out)
{
	su_addrinfo_t *ai = msg_addrinfo(req);
	const struct sockaddr *sa = ai != NULL ? ai->ai_addr : NULL;
	const char *slash;
	size_t i;

	memset(out, 0, sizeof(*out));
	if (sa != NULL && sa->sa_family == AF_INET) {
		const struct sockaddr_in *in = (const void *)sa;

		inet_ntop(AF_INET, &in->sin_addr, out->address,
		    sizeof(out->address));
		out->port = ntohs(in->sin_port);
	} else if (sa != NULL && sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *in6 = (const void *)sa;

		inet_ntop(AF_INET6, &in6->sin6_addr, out->address,
		    sizeof(out->address));
		out->port = ntohs(in6->sin6_port);
	}
	/* "SIP/2.0/UDP": the transport the request came over, "udp". */
	if (sip->sip_via != NULL && sip->sip_via->v_protocol != NULL &&
	    (slash = strrchr(sip->sip_via->v_protocol, '/')) != NULL)
		for (i = 0; slash[i + 1] != '\0' &&
		    i + 1 < sizeof(out->transport); i++)
			out->transport[i] =
			    (char)tolower((unsigned char)slash[i + 1]);
}
