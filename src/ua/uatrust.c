/*
 * uatrust.c - may this proxy see the body (see uatrust.h)?
 */
#include "ua/uatrust.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "crypto/cms.h"

/* SAN dNSName, or SAN URI sip:host (digest 4.6 step 4). */
static int
names_host(const struct cms_signer *who, const char *host)
{
	size_t i;

	for (i = 0; i < who->ndns; i++)
		if (strcasecmp(who->dns[i], host) == 0)
			return 1;
	return strncasecmp(who->uri, "sip:", 4) == 0 &&
	    strcasecmp(who->uri + 4, host) == 0;
}

static int
allowed(const struct uatrust *t, const char *host)
{
	size_t i;

	for (i = 0; i < t->nallow; i++)
		if (strcasecmp(t->allow[i], host) == 0)
			return 1;
	return 0;
}

/* The encryption certificate, with the intermediates of the challenge's
 * SignedData (sig, NULL for one learned earlier). */
static const char *
enc_ok(const struct uatrust *t, const char *host, const uint8_t *der,
    size_t len, const uint8_t *sig, size_t sig_len)
{
	struct cms_signer enc;
	const char *why = NULL;

	if (cms_cert_check_chain(t->anchors, der, len, sig, sig_len, &enc,
	    &why) != CMS_OK)
		return why != NULL ? why : "certificate not valid";
	if (!names_host(&enc, host))
		return "the encryption certificate names another host";
	if (!allowed(t, host))
		return "the proxy is not on the allow-list";
	return NULL;
}

const char *
uatrust_learned(const struct uatrust *t, const char *host,
    const uint8_t *der, size_t len)
{
	return enc_ok(t, host, der, len, NULL, 0);
}

/* The host the challenge speaks for: its warn-agent without a port, or
 * (whole body wanted, no Warning) the signer's first dNSName. */
static void
challenger(const struct uachal *ch, const struct cms_signer *signer,
    char *host, size_t size)
{
	char *colon;

	snprintf(host, size, "%s", ch->warn_agent[0] ? ch->warn_agent :
	    signer->ndns > 0 ? signer->dns[0] : "");
	if (host[0] != '[' && (colon = strchr(host, ':')) != NULL)
		*colon = '\0';
}

static const char *
check(const struct uatrust *t, const struct uachal *ch, long long now,
    struct uatrust_proxy *out)
{
	struct cms_signer signer;
	const char *why = NULL;
	size_t i;

	/* The body's encryption certificate (signed content) is offered as
	 * the signer's too: a proxy that signs with it may leave it out of
	 * the SignedData (challenge.certificate_once), saving one copy. */
	if (cms_verify_with(t->anchors, ch->signature, ch->signature_len,
	    ch->signed_part, ch->signed_part_len, ch->cert, ch->cert_len,
	    &signer, &why) != CMS_OK)
		return why != NULL ? why : "bad signature";
	if (llabs((long long)signer.signing_time - now) > (long long)t->max_skew)
		return "signingTime outside the allowed skew";
	challenger(ch, &signer, out->host, sizeof(out->host));
	if (out->host[0] == '\0' || !names_host(&signer, out->host))
		return "the signer does not name the challenging host";
	if ((why = enc_ok(t, out->host, ch->cert, ch->cert_len,
	    ch->signature, ch->signature_len)) != NULL)
		return why;
	if ((out->cert = malloc(ch->cert_len)) == NULL)
		return "out of memory";
	memcpy(out->cert, ch->cert, ch->cert_len);
	out->cert_len = ch->cert_len;
	for (i = 0; i < ch->ntypes; i++) {
		memcpy(out->types_[i], ch->types[i], sizeof(out->types_[i]));
		out->types[out->ntypes++] = out->types_[i];
	}
	return NULL;
}

const char *
uatrust_challenge(const struct uatrust *t, const struct uachal_request *req,
    const struct uachal_response *resp, long long now,
    struct uatrust_proxy *out)
{
	struct uachal *ch = NULL;
	enum uachal_status st;
	const char *why = NULL;

	memset(out, 0, sizeof(*out));
	st = uachal_parse(req, resp, t->warn_code, now, t->max_skew, &ch,
	    &why);
	if (st == UACHAL_UNSIGNED)
		why = "unsigned challenge";
	else if (st == UACHAL_OK)
		why = check(t, ch, now, out);
	uachal_free(ch);
	if (why != NULL)
		uatrust_proxy_free(out);
	return why;
}

void
uatrust_proxy_free(struct uatrust_proxy *p)
{
	free(p->cert);
	p->cert = NULL;
	p->cert_len = 0;
}
