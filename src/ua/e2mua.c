/*
 * e2mua.c - the user agent side of end-to-middle security, for testing and
 * demonstrating e2mproxyd: read the options (uaopts.c), load the keys, and
 * call (uac.c) or answer (uas.c). See e2mua(1).
 */
#include <stdio.h>

#include <sofia-sip/su.h>
#include <sofia-sip/su_log.h>

#include "crypto/cms.h"
#include "ua/uac.h"
#include "ua/uaopts.h"
#include "ua/uas.h"
#include "common/sockhook.h"
#include "common/version.h"

static int
load_keys(const struct uaopts *o, struct cms_signing_key **sk,
    struct cms_keys **keys)
{
	char err[512];

	if (o->sign_cert != NULL && (*sk = cms_signing_key_load(o->sign_cert,
	    o->sign_key, NULL, 0, err, sizeof(err))) == NULL) {
		fprintf(stderr, "e2mua: %s\n", err);
		return -1;
	}
	if ((o->ntrust > 0 || o->dec_cert != NULL) && (*keys = cms_keys_load(
	    o->dec_cert != NULL ? &o->dec_cert : NULL, o->dec_cert != NULL ?
	    &o->dec_key : NULL, o->dec_cert != NULL ? 1 : 0, o->trust,
	    o->ntrust, o->crls, o->ncrl, err, sizeof(err))) == NULL) {
		fprintf(stderr, "e2mua: %s\n", err);
		return -1;
	}
	return 0;
}

int
main(int argc, char **argv)
{
	struct uaopts o;
	struct cms_signing_key *sk = NULL;
	struct cms_keys *keys = NULL;
	int rc = UA_EXIT_USAGE;

	switch (uaopts_parse(argc, argv, &o, stderr)) {
	case UAOPTS_OK:
		break;
	case UAOPTS_VERSION:
		printf("e2mua %s\n", E2M_VERSION);
		uaopts_free(&o);
		return 0;
	case UAOPTS_HELP:
		uaopts_usage(stdout);
		uaopts_free(&o);
		return 0;
	case UAOPTS_USAGE:
		uaopts_usage(stderr);
		/* FALLTHROUGH */
	default:
		uaopts_free(&o);
		return UA_EXIT_USAGE;
	}
	/* Sofia's resolver must not loop on a name server out of reach. */
	sockhook_install(NULL);
	if (su_init() != 0) {
		uaopts_free(&o);
		return UA_EXIT_LOCAL;
	}
	/* The JSON line is the output; Sofia's chatter is not. */
	su_log_set_level(NULL, 0);
	rc = UA_EXIT_LOCAL;
	if (load_keys(&o, &sk, &keys) == 0)
		rc = o.listen ? uas_run(&o, keys) : uac_run(&o, sk, keys);
	cms_keys_free(keys);
	cms_signing_key_free(sk);
	su_deinit();
	uaopts_free(&o);
	return rc;
}
