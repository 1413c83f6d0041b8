/*
 * conf_policy.c - the policy and challenge sections of the configuration
 * (digest 5.1, 4.6): policy.rules become struct policy_rule in file
 * order, their lists owned by struct conf; the challenge settings get
 * their defaults and are checked against the rules (see confload.h).
 */
#if !defined(_GNU_SOURCE) && !defined(_POSIX_C_SOURCE)
#define _POSIX_C_SOURCE 200809L /* strdup under -std=c11 */
#endif

#include <arpa/inet.h>
#include <ctype.h>
#include <libconfig.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "e2m/policy.h"
#include "proxyd/conf.h"
#include "proxyd/confload.h"

static option_fn opt_pr_methods, opt_pr_domains, opt_pr_from_users,
    opt_pr_from_domains, opt_pr_sources, opt_pr_transports,
    opt_pr_directions,
    opt_pr_required_types, opt_policy_rules, opt_signing_chain,
    opt_warn_agent, opt_phrase, opt_ext_methods, opt_ext_types;

/* K_NAME stores an int; these enums are stored that way. */
_Static_assert(sizeof(enum policy_on_missing_prmb) == sizeof(int) &&
    sizeof(enum policy_on_bad_signature) == sizeof(int) &&
    sizeof(enum policy_on_undecipherable_in_dialog) == sizeof(int),
    "policy enums are int-sized");

static const struct conf_name on_missing_prmb[] = {
	{ "403", POLICY_MISSING_REJECT403 },
	{ "forward", POLICY_MISSING_FORWARD },
	{ NULL, 0 }
};
static const struct conf_name on_bad_signature[] = {
	{ "403", POLICY_BADSIG_REJECT403 },
	{ "forward-and-log", POLICY_BADSIG_FORWARD_AND_LOG },
	{ NULL, 0 }
};
static const struct conf_name on_undecipherable[] = {
	{ "log", POLICY_INDIALOG_LOG },
	{ "terminate", POLICY_INDIALOG_TERMINATE },
	{ NULL, 0 }
};
static const struct conf_name challenge_modes[] = { /* ch_legacy_unsigned */
	{ "signed", 0 },
	{ "legacy-unsigned", 1 },
	{ NULL, 0 }
};
static const struct conf_name challenge_encodings[] = { /* ch_base64 */
	{ "binary", 0 },
	{ "base64", 1 },
	{ NULL, 0 }
};

/* Entries of policy.rules; base is a struct policy_rule in c->policy_rules. */
#define PR_OFF(f) offsetof(struct policy_rule, f)
#define PR_BOOL(n, f) { n, K_BOOL, 0, 0, PR_OFF(f), NULL, NULL, NULL }
static const struct option policy_rule_opts[] = {
	O_FN("methods", opt_pr_methods),
	O_FN("domains", opt_pr_domains),
	O_FN("from_users", opt_pr_from_users),
	O_FN("from_domains", opt_pr_from_domains),
	O_FN("sources", opt_pr_sources),
	O_FN("transports", opt_pr_transports),
	O_FN("directions", opt_pr_directions),
	PR_BOOL("active", active),
	O_FN("required_types", opt_pr_required_types),
	PR_BOOL("require_whole_body", require_whole_body),
	PR_BOOL("require_integrity", require_integrity),
	PR_BOOL("require_inner_signature", require_inner_signature),
	PR_BOOL("reject_on_labelled_failure", reject_on_labelled_failure),
	PR_BOOL("open_unlabelled", open_unlabelled),
	O_NAME("on_missing_prmb", on_missing_prmb, PR_OFF(on_missing_prmb)),
	O_NAME("on_bad_signature", on_bad_signature, PR_OFF(on_bad_signature)),
	O_NAME("on_undecipherable_in_dialog", on_undecipherable,
	    PR_OFF(on_undecipherable_in_dialog)),
	O_END
};

const struct option conf_policy_opts[] = {
	O_FN("rules", opt_policy_rules),
	O_FN("extension_methods", opt_ext_methods),
	O_FN("extension_types", opt_ext_types),
	O_END
};

/*
 * A rule naming a method or a body type nobody sends never matches, and
 * the requests it was written for pass uninspected: a typo ("MESAGE",
 * "text/plian") must stop the start, not weaken the policy. The proxy
 * cannot tell a typo from an extension, so an extension is declared in
 * policy.extension_methods or policy.extension_types.
 *
 * Methods: RFC 3261 and the extensions a SIP proxy meets (RFC 3262, 3265,
 * 3311, 3428, 3515, 3903, 6086).
 */
static const char *const known_methods[] = {
	"ACK", "BYE", "CANCEL", "INFO", "INVITE", "MESSAGE", "NOTIFY",
	"OPTIONS", "PRACK", "PUBLISH", "REFER", "REGISTER", "SUBSCRIBE",
	"UPDATE", NULL
};
/* Body types seen in SIP (IANA-registered): sessions, instant messages,
 * presence and events, and the containers around them. */
static const char *const known_types[] = {
	"application/sdp", "text/plain", "text/html", "text/xml",
	"text/enriched", "text/richtext", "text/calendar", "text/vcard",
	"message/cpim", "message/sip", "message/sipfrag",
	"message/imdn+xml", "message/rfc822", "message/external-body",
	"multipart/mixed", "multipart/alternative", "multipart/related",
	"multipart/signed", "application/pkcs7-mime",
	"application/pkcs7-signature", "application/pidf+xml",
	"application/pidf-diff+xml", "application/xpidf+xml",
	"application/cpim-pidf+xml", "application/rlmi+xml",
	"application/resource-lists+xml", "application/watcherinfo+xml",
	"application/dialog-info+xml", "application/reginfo+xml",
	"application/conference-info+xml", "application/im-iscomposing+xml",
	"application/simple-message-summary", "application/dtmf-relay",
	"application/dtmf", "application/media_control+xml",
	"application/isup", "application/qsig", "application/xml",
	"application/json", "application/octet-stream", "application/pdf",
	"application/vnd.3gpp.sms", "application/xcap-diff+xml",
	"application/kpml-request+xml", "application/kpml-response+xml",
	"application/vq-rtcpxr", "application/emergencycalldata.comment+xml",
	NULL
};
/* Top-level types whose subtypes are too many to list (files sent in a
 * MESSAGE): any subtype of these is known. */
static const char *const open_toplevels[] = {
	"image", "audio", "video", "font", "model", NULL
};

static int
in_list(const char *const *list, const char *v)
{
	for (; *list != NULL; list++)
		if (strcasecmp(*list, v) == 0)
			return 1;
	return 0;
}

/* v is in policy.NAME: s is a member of an entry of policy.rules. */
static int
declared(const config_setting_t *s, const char *name, const char *v)
{
	const config_setting_t *g = config_setting_parent(s), *x;
	const char *e;
	int i;

	if (g != NULL && (g = config_setting_parent(g)) != NULL)
		g = config_setting_parent(g);
	if (g == NULL || !config_setting_is_group(g) ||
	    (x = config_setting_get_member(g, name)) == NULL ||
	    !config_setting_is_aggregate(x))
		return 0;
	for (i = 0; i < config_setting_length(x); i++)
		if ((e = config_setting_get_string_elem(x, i)) != NULL &&
		    strcasecmp(e, v) == 0)
			return 1;
	return 0;
}

static int
known_type(const config_setting_t *s, const char *v)
{
	char top[64];
	size_t n = strcspn(v, "/");

	if (n < sizeof(top)) {
		memcpy(top, v, n);
		top[n] = '\0';
		if (in_list(open_toplevels, top))
			return 1;
	}
	return in_list(known_types, v) ||
	    declared(s, "extension_types", v);
}

const struct option conf_challenge_opts[] = {
	O_FNAT("signing_certificate", cl_opt_file, ch_signing_certificate),
	O_FNAT("signing_key", cl_opt_secret, ch_signing_key),
	O_FN("signing_chain", opt_signing_chain),
	O_FNAT("encryption_certificate", cl_opt_file,
	    ch_encryption_certificate),
	O_NAME("mode", challenge_modes, CONF_OFF(ch_legacy_unsigned)),
	O_BOOL("sign_495", ch_sign_495),
	O_NAME("encoding", challenge_encodings, CONF_OFF(ch_base64)),
	O_BOOL("certificate_once", ch_certificate_once),
	O_FN("warn_agent", opt_warn_agent),
	O_UINT("undecipherable_code", 400, 699, ch_496_code),
	O_FNAT("undecipherable_phrase", opt_phrase, ch_496_phrase),
	O_UINT("signature_code", 400, 699, ch_495_code),
	O_FNAT("signature_phrase", opt_phrase, ch_495_phrase),
	O_UINT("warn_code", 300, 399, ch_warn_code),
	O_UINT("rate", 0, 1000000, ch_rate),
	O_UINT("burst", 1, 1000000, ch_burst),
	O_END
};

/*
 * policy.rules: each entry becomes a struct policy_rule, starting from
 * policy_rule_defaults(); its lists live in the matching policy_owned.
 */
static struct conf_policy_owned *
owned_of(struct loader *l, const struct policy_rule *r)
{
	return &l->c->policy_owned[r - l->c->policy_rules];
}

/* "example.com" or "*.example.com", as routing.rules[].domain. */
static int
is_domain(const char *v)
{
	const char *h = strncmp(v, "*.", 2) == 0 ? v + 2 : v;

	return cl_is_host(h, strlen(h));
}

/* A From user: a token (which cannot hold '@'). */
static int
is_user(const char *v)
{
	return cl_is_token(v) && strchr(v, '@') == NULL;
}

/* "type/subtype", both tokens. */
static int
is_media_type(const char *v)
{
	const char *slash = strchr(v, '/');
	char type[256];
	size_t n;

	if (slash == NULL || (n = (size_t)(slash - v)) == 0 ||
	    n >= sizeof(type))
		return 0;
	memcpy(type, v, n);
	type[n] = '\0';
	return cl_is_token(type) && cl_is_token(slash + 1);
}

/*
 * A non-empty array of cl_strings, each checked by valid(), normalised by
 * norm (or kept as written), stored in *own; *view and *n are the rule's
 * view of it. bad names what a refused entry is not.
 */
static void
policy_strings(struct loader *l, const config_setting_t *s, const char *path,
    const char *what, int (*valid)(const char *), char *(*norm)(char *),
    const char *bad, char ***own, const char *const **view, size_t *n)
{
	const config_setting_t *e;
	const char *v;
	char *p;
	int i, len;

	if ((len = cl_nonempty_strings(l, s, path, what)) <= 0)
		return;
	if ((*own = cl_calloc(l, (size_t)len, sizeof(char *))) == NULL)
		return;
	*view = (const char *const *)*own;
	for (i = 0; i < len; i++) {
		e = config_setting_get_elem(s, (unsigned)i);
		v = config_setting_get_string(e);
		if (!valid(v)) {
			cl_err(l, e, "%s: \"%s\" is not %s", path, v, bad);
			continue;
		}
		if ((p = cl_strdup(l, v)) == NULL)
			return;
		(*own)[(*n)++] = norm != NULL ? norm(p) : p;
	}
}

static void
opt_pr_methods(struct loader *l, const config_setting_t *s, const char *path,
    const struct option *o, void *base)
{
	struct policy_rule *r = base;

	const config_setting_t *e;
	const char *v;
	int i;

	(void)o;
	policy_strings(l, s, path, "method", cl_is_token, cl_upper,
	    "a SIP method name", &owned_of(l, r)->methods, &r->methods,
	    &r->nmethods);
	for (i = 0; (e = config_setting_get_elem(s, (unsigned)i)) != NULL;
	    i++) {
		v = config_setting_get_string(e);
		if (v != NULL && cl_is_token(v) &&
		    !in_list(known_methods, v) &&
		    !declared(s, "extension_methods", v))
			cl_err(l, e, "%s: \"%s\" is not a SIP method this "
			    "proxy knows: the rule would never match (declare "
			    "an extension in policy.extension_methods)", path,
			    v);
	}
}

static void
opt_pr_domains(struct loader *l, const config_setting_t *s, const char *path,
    const struct option *o, void *base)
{
	struct policy_rule *r = base;

	(void)o;
	policy_strings(l, s, path, "domain", is_domain, cl_lower,
	    "a domain name or \"*.domain\"", &owned_of(l, r)->ruri_domains,
	    &r->ruri_domains, &r->nruri_domains);
}

static void
opt_pr_from_users(struct loader *l, const config_setting_t *s,
    const char *path, const struct option *o, void *base)
{
	struct policy_rule *r = base;

	(void)o;
	policy_strings(l, s, path, "user", is_user, NULL,
	    "a user name (a token, no \"@\")", &owned_of(l, r)->from_users,
	    &r->from_users, &r->nfrom_users);
}

static void
opt_pr_from_domains(struct loader *l, const config_setting_t *s,
    const char *path, const struct option *o, void *base)
{
	struct policy_rule *r = base;

	(void)o;
	policy_strings(l, s, path, "domain", is_domain, cl_lower,
	    "a domain name or \"*.domain\"", &owned_of(l, r)->from_domains,
	    &r->from_domains, &r->nfrom_domains);
}

static void
opt_pr_sources(struct loader *l, const config_setting_t *s, const char *path,
    const struct option *o, void *base)
{
	struct policy_rule *r = base;
	struct conf_policy_owned *ow = owned_of(l, r);
	int n;

	(void)o;
	if ((n = cl_nonempty_strings(l, s, path, "source")) <= 0)
		return;
	cl_load_networks(l, s, path, n, &ow->sources, &r->nsources);
	r->sources = ow->sources;
}

/* A non-empty array of names from names[] (NULL-terminated) as the OR of
 * their values; each unknown one reported, with hint ("" or the list). */
static unsigned
name_bits(struct loader *l, const config_setting_t *s, const char *path,
    const char *what, const struct conf_name *names, const char *hint)
{
	const config_setting_t *e;
	const struct conf_name *nm;
	unsigned bits = 0;
	const char *v;
	int i, n;

	if ((n = cl_nonempty_strings(l, s, path, what)) <= 0)
		return 0;
	for (i = 0; i < n; i++) {
		e = config_setting_get_elem(s, (unsigned)i);
		v = config_setting_get_string(e);
		for (nm = names; nm->name != NULL; nm++)
			if (strcmp(v, nm->name) == 0)
				break;
		if (nm->name == NULL)
			cl_err(l, e, "%s: unknown %s \"%s\"%s", path, what, v,
			    hint);
		else
			bits |= (unsigned)nm->value;
	}
	return bits;
}

static void
opt_pr_transports(struct loader *l, const config_setting_t *s,
    const char *path, const struct option *o, void *base)
{
	static const struct conf_name tp[] = {
		{ "udp", POLICY_TP_UDP },
		{ "tcp", POLICY_TP_TCP },
		{ "tls", POLICY_TP_TLS },
		{ NULL, 0 }
	};

	(void)o;
	((struct policy_rule *)base)->transports |=
	    name_bits(l, s, path, "transport", tp, "");
}

/* Which way through an edge proxy (edge.path): from or to phones. */
static void
opt_pr_directions(struct loader *l, const config_setting_t *s,
    const char *path, const struct option *o, void *base)
{
	static const struct conf_name dir[] = {
		{ "from_phones", POLICY_DIR_FROM_PHONES },
		{ "to_phones", POLICY_DIR_TO_PHONES },
		{ "other", POLICY_DIR_OTHER },
		{ NULL, 0 }
	};

	(void)o;
	((struct policy_rule *)base)->directions |= name_bits(l, s, path,
	    "direction", dir, " (from_phones, to_phones, other)");
}

/* Empty is fine: no PRMB, as when it is left out. */
static void
opt_pr_required_types(struct loader *l, const config_setting_t *s,
    const char *path, const struct option *o, void *base)
{
	struct policy_rule *r = base;
	struct conf_policy_owned *ow = owned_of(l, r);
	const config_setting_t *e;
	char *v;
	size_t j;
	int i, n;

	(void)o;
	if ((n = cl_strings(l, s, path)) <= 0)
		return;
	if (n > POLICY_MAX_PRMB) {
		cl_err(l, s, "%s: %d types, at most %d", path, n,
		    POLICY_MAX_PRMB);
		return;
	}
	if ((ow->prmb_types = cl_calloc(l, (size_t)n, sizeof(char *))) == NULL)
		return;
	r->prmb_types = (const char *const *)ow->prmb_types;
	for (i = 0; i < n; i++) {
		e = config_setting_get_elem(s, (unsigned)i);
		if (!is_media_type(config_setting_get_string(e))) {
			cl_err(l, e, "%s: \"%s\" is not a type/subtype", path,
			    config_setting_get_string(e));
			continue;
		}
		if (!known_type(s, config_setting_get_string(e))) {
			cl_err(l, e, "%s: \"%s\" is not a body type this "
			    "proxy knows: no UA would send it (declare an "
			    "extension in policy.extension_types)", path,
			    config_setting_get_string(e));
			continue;
		}
		if ((v = cl_lower(cl_strdup(l,
		    config_setting_get_string(e)))) == NULL)
			return;
		for (j = 0; j < r->nprmb_types; j++)
			if (strcmp(v, ow->prmb_types[j]) == 0)
				break;
		if (j < r->nprmb_types) {
			cl_err(l, e, "%s: duplicate type \"%s\"", path, v);
			free(v);
		} else
			ow->prmb_types[r->nprmb_types++] = v;
	}
}

static void
load_policy_rule(struct loader *l, const config_setting_t *e,
    const char *path)
{
	struct conf *c = l->c;
	struct policy_rule *r = &c->policy_rules[c->npolicy_rules++];

	/* Kept even when broken, so that conf_free() has one owner. */
	policy_rule_defaults(r, config_setting_source_line(e));
	if (!config_setting_is_group(e)) {
		cl_err(l, e, "%s: expected a group", path);
		return;
	}
	cl_load_group(l, e, path, policy_rule_opts, r);
}

static void
opt_signing_chain(struct loader *l, const config_setting_t *s,
    const char *path, const struct option *o, void *base)
{
	struct conf *c = base;

	(void)o;
	cl_file_array(l, s, path, &c->ch_signing_chain, &c->nch_signing_chain);
}

/* RFC 3261 warn-agent as hostport; "" means "pick a name of ours". */
static void
opt_warn_agent(struct loader *l, const config_setting_t *s, const char *path,
    const struct option *o, void *base)
{
	struct conf *c = base;
	const char *v, *e;
	size_t n;

	(void)o;
	if (!cl_is_string(l, s, path))
		return;
	v = config_setting_get_string(s);
	if (*v == '\0')
		return;
	if (v[0] == '[' && (e = strchr(v, ']')) != NULL)
		e++;
	else
		e = v + strcspn(v, ":");
	n = (size_t)(e - v);
	if (!cl_is_host(v, n) || (*e == ':' && (e[1] == '\0' ||
	    strspn(e + 1, "0123456789") != strlen(e + 1) ||
	    strlen(e + 1) > 5)) || (*e != '\0' && *e != ':')) {
		cl_err(l, s, "%s: \"%s\" is not a host or host:port", path, v);
		return;
	}
	c->ch_warn_agent = cl_strdup(l, v);
}

/* A reason phrase goes on the status line as is: no line breaks or other
 * control characters. */
static void
opt_phrase(struct loader *l, const config_setting_t *s, const char *path,
    const struct option *o, void *base)
{
	char **to = (char **)(void *)((char *)base + o->off);
	const char *v, *p;

	if (!cl_is_string(l, s, path))
		return;
	v = config_setting_get_string(s);
	for (p = v; *p != '\0'; p++)
		if (iscntrl((unsigned char)*p) && *p != '\t') {
			cl_err(l, s, "%s: control characters are not allowed",
			    path);
			return;
		}
	free(*to);
	*to = cl_strdup(l, v);
}

/* policy.extension_methods, policy.extension_types: only checked here;
 * the rules look them up (declared()). */
static void
ext_names(struct loader *l, const config_setting_t *s, const char *path,
    int (*valid)(const char *), const char *bad)
{
	const config_setting_t *e;
	int i, n;

	if ((n = cl_strings(l, s, path)) <= 0)
		return;
	for (i = 0; i < n; i++) {
		e = config_setting_get_elem(s, (unsigned)i);
		if (!valid(config_setting_get_string(e)))
			cl_err(l, e, "%s: \"%s\" is not %s", path,
			    config_setting_get_string(e), bad);
	}
}

static void
opt_ext_methods(struct loader *l, const config_setting_t *s,
    const char *path, const struct option *o, void *base)
{
	(void)o;
	(void)base;
	ext_names(l, s, path, cl_is_token, "a SIP method name");
}

static void
opt_ext_types(struct loader *l, const config_setting_t *s,
    const char *path, const struct option *o, void *base)
{
	(void)o;
	(void)base;
	ext_names(l, s, path, is_media_type, "a type/subtype");
}

/* Empty is fine: no rules, the mechanism is not applied. */
static void
opt_policy_rules(struct loader *l, const config_setting_t *s,
    const char *path, const struct option *o, void *base)
{
	struct conf *c = base;
	int n;

	(void)o;
	if ((n = cl_group_list_len(l, s, path)) <= 0)
		return;
	if ((c->policy_rules = cl_calloc(l, (size_t)n,
	    sizeof(*c->policy_rules))) == NULL ||
	    (c->policy_owned = cl_calloc(l, (size_t)n,
	    sizeof(*c->policy_owned))) == NULL)
		return;
	cl_each_entry(l, s, path, load_policy_rule);
}

static void
default_string(struct loader *l, char **to, const char *v)
{
	if (*to == NULL)
		*to = cl_strdup(l, v);
}

/* A name a UA can put in its label: ours, else a listener's address. */
static void
default_warn_agent(struct loader *l)
{
	struct conf *c = l->c;
	char buf[INET6_ADDRSTRLEN + 2];

	if (c->ch_warn_agent != NULL)
		return;
	if (c->nown_names > 0) {
		c->ch_warn_agent = cl_strdup(l, c->own_names[0]);
		return;
	}
	if (c->nlisten == 0)
		return;
	snprintf(buf, sizeof(buf), strchr(c->listen[0].address, ':') ?
	    "[%s]" : "%s", c->listen[0].address);
	c->ch_warn_agent = cl_strdup(l, buf);
}

static int
any_active_rule(const struct conf *c)
{
	size_t i;

	for (i = 0; i < c->npolicy_rules; i++)
		if (c->policy_rules[i].active)
			return 1;
	return 0;
}

/*
 * An active policy may have to challenge: it needs a certificate to hand
 * out and, unless challenges are legacy-unsigned, a key to sign with.
 * Point at the empty setting, else the challenge group, else the rules.
 */
void
conf_check_challenge(struct loader *l, const config_t *cfg)
{
	struct conf *c = l->c;
	const config_setting_t *at, *g = config_lookup(cfg, "challenge");
	const char *missing[3], *why[3];
	size_t i, n = 0;

	default_string(l, &c->ch_496_phrase, "Proxy Undecipherable");
	default_string(l, &c->ch_495_phrase, "Signature Required");
	default_warn_agent(l);
	if (c->ch_encryption_certificate == NULL && c->ninspect_keys > 0 &&
	    c->inspect_keys[0].certificate != NULL)
		c->ch_encryption_certificate = cl_strdup(l,
		    c->inspect_keys[0].certificate);
	if (c->ch_496_code == c->ch_495_code)
		cl_err(l, config_lookup(cfg, "challenge.signature_code"),
		    "challenge.signature_code: must differ from "
		    "challenge.undecipherable_code");
	if (!any_active_rule(c) || (g != NULL && !config_setting_is_group(g)))
		return;
	if (c->ch_encryption_certificate == NULL) {
		why[n] = " and inspect.keys is empty";
		missing[n++] = "challenge.encryption_certificate";
	}
	if (!c->ch_legacy_unsigned && c->ch_signing_certificate == NULL) {
		why[n] = "";
		missing[n++] = "challenge.signing_certificate";
	}
	if (!c->ch_legacy_unsigned && c->ch_signing_key == NULL) {
		why[n] = "";
		missing[n++] = "challenge.signing_key";
	}
	for (i = 0; i < n; i++) {
		at = config_lookup(cfg, missing[i]);
		if (at != NULL && config_setting_type(at) != CONFIG_TYPE_STRING)
			continue; /* already reported as the wrong type */
		if (at == NULL && (at = g) == NULL)
			at = config_lookup(cfg, "policy.rules");
		cl_err(l, at, "%s: must be set when a policy rule is active%s",
		    missing[i], why[i]);
	}
}

void
conf_free_policy_rule(const struct policy_rule *r, struct conf_policy_owned *o)
{
	cl_free_strings(o->methods, r->nmethods);
	cl_free_strings(o->ruri_domains, r->nruri_domains);
	cl_free_strings(o->from_users, r->nfrom_users);
	cl_free_strings(o->from_domains, r->nfrom_domains);
	free(o->sources);
	cl_free_strings(o->prmb_types, r->nprmb_types);
}

/* For conf_schema_each() (conf.c): see confload.h. */
const struct option *
conf_policy_entry_opts(const struct option *o)
{
	return o->fn == opt_policy_rules ? policy_rule_opts : NULL;
}
