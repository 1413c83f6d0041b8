/* sipmime.c - Content-* header values of a SIP message (see sipmime.h). */
#include "sip/sipmime.h"

#include <string.h>
#include <strings.h>

#include <sofia-sip/sip_header.h>

const char *
sipmime_unknown(const sip_t *sip, const char *name)
{
	const sip_unknown_t *u;

	for (u = sip->sip_unknown; u != NULL; u = u->un_next)
		if (u->un_name != NULL && strcasecmp(u->un_name, name) == 0)
			return u->un_value;
	return NULL;
}

static const char *
text(msg_t *msg, const void *h)
{
	return h != NULL ? sip_header_as_string(msg_home(msg),
	    (const sip_header_t *)h) : NULL;
}

void
sipmime_headers(msg_t *msg, const sip_t *sip, struct mime_headers *top)
{
	memset(top, 0, sizeof(*top));
	top->content_type = text(msg, sip->sip_content_type);
	top->content_disposition = text(msg, sip->sip_content_disposition);
	top->content_id = sipmime_unknown(sip, "Content-ID");
	top->content_transfer_encoding = sipmime_unknown(sip,
	    "Content-Transfer-Encoding");
}
