/*
 * uaopts.h - what e2mua is told to do: a libconfig file (-F) and the
 * command line over it. Scalars on the command line replace the file's,
 * list options add to the file's lists. Every error of the file is
 * reported at once as "file:line: message" (unknown settings and wrong
 * types are errors). No Sofia or OpenSSL types.
 */
#ifndef UAOPTS_H
#define UAOPTS_H

#include <stddef.h>
#include <stdio.h>

#include "ua/uamsg.h"

#define UAOPTS_MAX_LIST 8 /* entries of each list option */

struct uaopts {
	const char *to, *from, *proxy, *bind, *type, *text;
	const char *sign_cert, *sign_key;
	const char *peer_certs[UAOPTS_MAX_LIST];   /* -e */
	size_t npeer;
	struct uamsg_proxy proxies[UAMSG_MAX_PROXIES]; /* -x */
	size_t nproxies;
	int separate, cbc, signed_data;
	int lazy_sign;              /* -L: sign only when a 495 asks */
	unsigned timeout;           /* seconds per transaction */
	const char *trust[UAOPTS_MAX_LIST];        /* -r */
	size_t ntrust;
	const char *crls[UAOPTS_MAX_LIST];         /* -R */
	size_t ncrl;
	const char *allow[UAOPTS_MAX_LIST];        /* -a */
	size_t nallow;
	unsigned max_proxies;       /* -n */
	unsigned max_skew;          /* seconds of Date/signingTime skew */
	const char *cache_file;     /* -P: learned proxies; NULL: none */
	unsigned cache_ttl;         /* seconds a learned proxy is reused */
	int listen;                 /* -l: UAS mode */
	int invite;                 /* -I: a call instead of a MESSAGE */
	unsigned hold;              /* -H: seconds between ACK and BYE */
	const char *dec_cert, *dec_key; /* -k */
	unsigned count;             /* -N: requests to answer, 0: until -T */
	const char *registrar;      /* -g: REGISTER there (UAS mode) */
	unsigned expires;           /* -E: registration expiry asked */
	const char *instance;       /* -i: +sip.instance URN; NULL: random */
	unsigned keepalive;         /* -K: keep-alive seconds; 0: RFC 5626 */
	const char *config_file;    /* -F */

	void *cfg_;                 /* private: the parsed file */
};

/* e2mua's exit status, documented in e2mua(1). */
enum { UA_EXIT_2XX = 0, UA_EXIT_FINAL = 1, UA_EXIT_USAGE = 2,
	UA_EXIT_LOCAL = 3, UA_EXIT_TIMEOUT = 4, UA_EXIT_REFUSED = 5 };

enum uaopts_result { UAOPTS_OK, UAOPTS_USAGE, UAOPTS_BAD_FILE,
	UAOPTS_VERSION, UAOPTS_HELP };

/*
 * Fill o from argv (and the -F file). UAOPTS_BAD_FILE: the messages went
 * to errf already. UAOPTS_USAGE: print uaopts_usage(). Call uaopts_free()
 * whatever the result.
 */
enum uaopts_result uaopts_parse(int argc, char **argv, struct uaopts *o,
    FILE *errf);
void uaopts_usage(FILE *f);
void uaopts_free(struct uaopts *o);

/* The SDP e2mua offers for -I when no -m is given. */
extern const char uaopts_sdp_offer[];

#endif /* UAOPTS_H */
