/* tlscheck.c - outgoing TLS: names by OpenSSL, failures reported at once
 * (tlscheck.h). */
#include "proxyd/sofia/tlscheck.h"

#include <stddef.h>
#include <string.h>

#include <sofia-sip/tport.h>
#include <sofia-sip/tport_tag.h>

#include "common/log.h"
#include "common/nextsym.h"
#include "crypto/tlsname.h"

static int failures, names;

void
tlscheck_enable(int check_names)
{
	failures = 1;
	names = check_names != 0;
	tlsname_enable();
}

/* Sofia's, exported but not in its public headers. */
void tport_close(tport_t *);

typedef int search_fn(char const *, su_strlst_t const *);
typedef void close_fn(tport_t *);

int
tport_subject_search(char const *subject, su_strlst_t const *lst)
{
	static nextsym_cache next;
	search_fn *real;
	int r;

	real = (search_fn *)nextsym(&next, "tport_subject_search");
	/* "*" (or none) is Sofia's "any name will do". */
	if (!names || subject == NULL || strcmp(subject, "*") == 0)
		return real != NULL ? real(subject, lst) : 0;
	r = tlsname_check(subject);
	return r > 0;
}

/* Logs why the TLS connection TP failed, when tlsname knows. */
static void
log_failure(tport_t *tp)
{
	su_addrinfo_t const *ai = tport_get_address(tp);
	tp_name_t const *n = tport_name(tp);
	char why[256];

	if (ai == NULL || ai->ai_addr == NULL ||
	    !tlsname_failure((const struct sockaddr *)ai->ai_addr,
	    (socklen_t)ai->ai_addrlen, why, sizeof(why)))
		return;
	log_warnx("TLS connection to %s:%s refused: %s; requests waiting "
	    "for it fail now", n != NULL && n->tpn_canon ? n->tpn_canon : "?",
	    n != NULL && n->tpn_port ? n->tpn_port : "?", why);
}

void
tport_close(tport_t *tp)
{
	static nextsym_cache next;
	close_fn *real;

	real = (close_fn *)nextsym(&next, "tport_close");
	if (failures && tp != NULL && tport_is_secondary(tp) &&
	    tport_has_tls(tp) && !tport_is_connected(tp) &&
	    !tport_is_closed(tp)) {
		log_failure(tp);
		tport_set_params(tp, TPTAG_SDWN_ERROR(1), TAG_END());
	}
	if (real != NULL)
		real(tp);
}
