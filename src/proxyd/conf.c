/* conf.c - the daemon's configuration: a libconfig file -> struct conf. */
#if !defined(_GNU_SOURCE) && !defined(_POSIX_C_SOURCE)
#define _POSIX_C_SOURCE 200809L /* strdup, fileno, O_CLOEXEC under -std=c11 */
#endif

#include "proxyd/conf.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <libconfig.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

/* Long enough for any path built from known names and an index. */
#define PATHSZ 128

struct loader {
	const char *path;
	conf_error_fn *fn;
	void *arg;
	int nerrors;
	int oom;
	struct conf *c;
	int listen_seen;
	const config_setting_t *tls_listener; /* first one, for its line */
	int ciphers_seen;
};

enum kind { K_GROUP, K_BOOL, K_INT, K_UINT, K_SIZE, K_FN };

struct option;
typedef void option_fn(struct loader *, const config_setting_t *,
    const char *, const struct option *, void *);

/*
 * One known setting. The value lands at base + off, where base is the
 * struct conf, or the conf_listen / conf_route / conf_keypair of the entry
 * being read.
 */
struct option {
	const char *name;
	enum kind kind;
	long long min, max;
	size_t off;
	option_fn *fn;
	const struct option *sub;
};

static option_fn opt_target, opt_level, opt_facility, opt_listen,
    opt_own_names, opt_tls_file, opt_tls_key, opt_default_next_hop,
    opt_rules, opt_transport, opt_address, opt_domain, opt_methods,
    opt_sources, opt_source_exempt, opt_next_hop, opt_inspect_keys, opt_trust_anchors,
    opt_crl_files, opt_content_ciphers, opt_pair_certificate, opt_pair_key,
    opt_policy_rules, opt_pr_methods, opt_pr_domains, opt_pr_from_users,
    opt_pr_from_domains, opt_pr_sources, opt_pr_transports,
    opt_pr_required_types, opt_pr_on_missing_prmb, opt_pr_on_bad_signature,
    opt_pr_on_undecipherable, opt_label_headers, opt_signing_chain,
    opt_ch_mode, opt_ch_encoding, opt_warn_agent, opt_phrase;

#define CONF_OFF(f)	offsetof(struct conf, f)
#define O_BOOL(n, f)	{ n, K_BOOL, 0, 0, CONF_OFF(f), NULL, NULL }
#define O_INT(n, lo, hi, o) { n, K_INT, lo, hi, o, NULL, NULL }
#define O_UINT(n, lo, hi, f) { n, K_UINT, lo, hi, CONF_OFF(f), NULL, NULL }
#define O_SIZE(n, lo, hi, f) { n, K_SIZE, lo, hi, CONF_OFF(f), NULL, NULL }
#define O_FN(n, fn)	{ n, K_FN, 0, 0, 0, fn, NULL }
#define O_FNAT(n, fn, f) { n, K_FN, 0, 0, CONF_OFF(f), fn, NULL }
#define O_GROUP(n, sub)	{ n, K_GROUP, 0, 0, 0, NULL, sub }
#define O_END		{ NULL, K_FN, 0, 0, 0, NULL, NULL }

static const struct option log_opts[] = {
	O_FN("target", opt_target),
	O_FN("level", opt_level),
	O_FN("facility", opt_facility),
	O_BOOL("sip_trace", sip_trace),
	O_END
};

static const struct option sip_opts[] = {
	O_FN("listen", opt_listen),
	O_FN("own_names", opt_own_names),
	O_BOOL("record_route", record_route),
	O_INT("max_forwards", 1, 255, CONF_OFF(max_forwards)),
	O_UINT("transaction_timeout", 1000, 300000, transaction_timeout_ms),
	O_UINT("udp_mtu", 500, 65535, udp_mtu),
	O_UINT("udp_buffer", 65536, 67108864, udp_buffer),
	O_UINT("max_message_size", 4096, 1048576, max_message_size),
	O_UINT("source_rate", 0, 1000000, source_rate),
	O_UINT("source_burst", 1, 10000000, source_burst),
	O_FN("source_exempt", opt_source_exempt),
	O_END
};

static const struct option tls_opts[] = {
	O_FNAT("certificate", opt_tls_file, tls_certificate),
	O_FNAT("key", opt_tls_key, tls_key),
	O_FNAT("ca_file", opt_tls_file, tls_ca_file),
	O_BOOL("verify_server", tls_verify_server),
	O_BOOL("verify_client", tls_verify_client),
	O_END
};

static const struct option routing_opts[] = {
	O_FN("default_next_hop", opt_default_next_hop),
	O_FN("rules", opt_rules),
	O_END
};

static const struct option inspect_opts[] = {
	O_FN("keys", opt_inspect_keys),
	O_FN("trust_anchors", opt_trust_anchors),
	O_FN("crl_files", opt_crl_files),
	O_SIZE("max_body", 1024, 1048576, max_body),
	O_UINT("max_depth", 1, 64, max_depth),
	O_UINT("max_parts", 1, 1024, max_parts),
	O_UINT("workers", 0, 64, workers),
	O_UINT("queue", 1, 100000, queue),
	O_UINT("retry_after", 1, 3600, retry_after),
	O_FN("content_ciphers", opt_content_ciphers),
	O_UINT("decrypt_rate", 0, 1000000, decrypt_rate),
	O_UINT("decrypt_burst", 1, 1000000, decrypt_burst),
	O_FN("label_headers", opt_label_headers),
	O_END
};

static const struct option challenge_opts[] = {
	O_FNAT("signing_certificate", opt_tls_file, ch_signing_certificate),
	O_FNAT("signing_key", opt_tls_key, ch_signing_key),
	O_FN("signing_chain", opt_signing_chain),
	O_FNAT("encryption_certificate", opt_tls_file,
	    ch_encryption_certificate),
	O_FN("mode", opt_ch_mode),
	O_BOOL("sign_495", ch_sign_495),
	O_FN("encoding", opt_ch_encoding),
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

static const struct option policy_opts[] = {
	O_FN("rules", opt_policy_rules),
	O_END
};

static const struct option top_opts[] = {
	O_GROUP("log", log_opts),
	O_GROUP("sip", sip_opts),
	O_GROUP("tls", tls_opts),
	O_GROUP("routing", routing_opts),
	O_GROUP("inspect", inspect_opts),
	O_GROUP("policy", policy_opts),
	O_GROUP("challenge", challenge_opts),
	O_END
};

/* Entries of sip.listen; base is a struct conf_listen. */
static const struct option listen_opts[] = {
	O_FN("transport", opt_transport),
	O_FN("address", opt_address),
	O_INT("port", 1, 65535, offsetof(struct conf_listen, port)),
	O_END
};

/* Entries of routing.rules; base is a struct conf_route. */
static const struct option rule_opts[] = {
	O_FN("domain", opt_domain),
	O_FN("methods", opt_methods),
	O_FN("sources", opt_sources),
	O_FN("next_hop", opt_next_hop),
	O_END
};

/* Entries of inspect.keys; base is a struct conf_keypair. */
static const struct option keypair_opts[] = {
	O_FN("certificate", opt_pair_certificate),
	O_FN("key", opt_pair_key),
	O_END
};

/* Entries of policy.rules; base is a struct policy_rule in c->policy_rules. */
#define PR_BOOL(n, f) \
	{ n, K_BOOL, 0, 0, offsetof(struct policy_rule, f), NULL, NULL }
static const struct option policy_rule_opts[] = {
	O_FN("methods", opt_pr_methods),
	O_FN("domains", opt_pr_domains),
	O_FN("from_users", opt_pr_from_users),
	O_FN("from_domains", opt_pr_from_domains),
	O_FN("sources", opt_pr_sources),
	O_FN("transports", opt_pr_transports),
	PR_BOOL("active", active),
	O_FN("required_types", opt_pr_required_types),
	PR_BOOL("require_whole_body", require_whole_body),
	PR_BOOL("require_integrity", require_integrity),
	PR_BOOL("require_inner_signature", require_inner_signature),
	PR_BOOL("reject_on_labelled_failure", reject_on_labelled_failure),
	PR_BOOL("open_unlabelled", open_unlabelled),
	O_FN("on_missing_prmb", opt_pr_on_missing_prmb),
	O_FN("on_bad_signature", opt_pr_on_bad_signature),
	O_FN("on_undecipherable_in_dialog", opt_pr_on_undecipherable),
	O_END
};

/* CMS content-encryption algorithms the decrypt stage can accept. */
static const char *const content_cipher_names[] = {
	"aes-128-cbc", "aes-192-cbc", "aes-256-cbc",
	"aes-128-gcm", "aes-192-gcm", "aes-256-gcm",
};
#define NCONTENT_CIPHERS \
	(sizeof(content_cipher_names) / sizeof(content_cipher_names[0]))

static const char *const transport_names[] = {
	[CONF_TP_UDP] = "udp", [CONF_TP_TCP] = "tcp", [CONF_TP_TLS] = "tls",
};

const char *
conf_transport_name(enum conf_transport t)
{
	if ((size_t)t >= sizeof(transport_names) / sizeof(transport_names[0]))
		return "?";
	return transport_names[t];
}

/* Control characters from quoted values must not split the one-line msg. */
static void
deliver(struct loader *l, char *msg)
{
	char *p;

	for (p = msg; *p != '\0'; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			*p = '?';
	l->fn(l->arg, msg);
	l->nerrors++;
}

static void
verr(struct loader *l, const char *file, unsigned line, const char *fmt,
    va_list ap)
{
	char small[512], *big;
	va_list ap2;
	int head, len;

	va_copy(ap2, ap);
	head = snprintf(small, sizeof(small), "%s:%u: ", file, line);
	if (head < 0 || (size_t)head >= sizeof(small))
		head = 0;
	len = vsnprintf(small + head, sizeof(small) - (size_t)head, fmt, ap);
	if (len >= 0 && (size_t)(head + len) >= sizeof(small) &&
	    (big = malloc((size_t)head + (size_t)len + 1)) != NULL) {
		memcpy(big, small, (size_t)head);
		vsnprintf(big + head, (size_t)len + 1, fmt, ap2);
		deliver(l, big);
		free(big);
	} else
		deliver(l, small);
	va_end(ap2);
}

static void __attribute__((format(printf, 4, 5)))
err_at(struct loader *l, const char *file, unsigned line, const char *fmt,
    ...)
{
	va_list ap;

	va_start(ap, fmt);
	verr(l, file, line, fmt, ap);
	va_end(ap);
}

/* Report at s's file and line; s == NULL means the file as a whole. */
static void __attribute__((format(printf, 3, 4)))
err(struct loader *l, const config_setting_t *s, const char *fmt, ...)
{
	const char *file = l->path;
	unsigned line = 0;
	va_list ap;

	if (s != NULL) {
		if (config_setting_source_file(s) != NULL)
			file = config_setting_source_file(s);
		line = config_setting_source_line(s);
	}
	va_start(ap, fmt);
	verr(l, file, line, fmt, ap);
	va_end(ap);
}

static void *
xcalloc(struct loader *l, size_t n, size_t size)
{
	void *p = calloc(n, size);

	if (p == NULL)
		l->oom = 1;
	return p;
}

static char *
xstrdup(struct loader *l, const char *s)
{
	char *p = strdup(s);

	if (p == NULL)
		l->oom = 1;
	return p;
}

static char *
lower(char *s)
{
	char *p;

	for (p = s; p != NULL && *p != '\0'; p++)
		*p = (char)tolower((unsigned char)*p);
	return s;
}

static char *
upper(char *s)
{
	char *p;

	for (p = s; p != NULL && *p != '\0'; p++)
		*p = (char)toupper((unsigned char)*p);
	return s;
}

static int
is_string(struct loader *l, const config_setting_t *s, const char *path)
{
	if (config_setting_type(s) == CONFIG_TYPE_STRING)
		return 1;
	err(l, s, "%s: expected a string", path);
	return 0;
}

/*
 * Returns the element count, or -1 after reporting. Lists of strings are
 * taken too: in libconfig ( ) and [ ] look alike to most people.
 */
static int
strings(struct loader *l, const config_setting_t *s, const char *path)
{
	int i, n;

	if (config_setting_is_array(s) || config_setting_is_list(s)) {
		n = config_setting_length(s);
		for (i = 0; i < n; i++)
			if (config_setting_type(config_setting_get_elem(s,
			    (unsigned)i)) != CONFIG_TYPE_STRING)
				break;
		if (i == n)
			return n;
	}
	err(l, s, "%s: expected an array of strings", path);
	return -1;
}

/*
 * An explicit empty array is more likely a mistake than a wish to match
 * everything, which is what leaving the setting out means.
 */
static int
nonempty_strings(struct loader *l, const config_setting_t *s,
    const char *path, const char *what)
{
	int n = strings(l, s, path);

	if (n == 0)
		err(l, s, "%s: must not be empty; leave it out to match any %s",
		    path, what);
	return n;
}

static int
is_host(const char *s, size_t len)
{
	struct in6_addr a6;
	char buf[INET6_ADDRSTRLEN];
	size_t i;

	if (len == 0)
		return 0;
	if (s[0] == '[') {
		if (len < 3 || s[len - 1] != ']' || len - 2 >= sizeof(buf))
			return 0;
		memcpy(buf, s + 1, len - 2);
		buf[len - 2] = '\0';
		return inet_pton(AF_INET6, buf, &a6) == 1;
	}
	for (i = 0; i < len; i++)
		if (!isalnum((unsigned char)s[i]) &&
		    strchr("-._", s[i]) == NULL)
			return 0;
	return 1;
}

/* RFC 3261 token, which is what a method is. */
static int
is_token(const char *s)
{
	if (*s == '\0')
		return 0;
	for (; *s != '\0'; s++)
		if (!isalnum((unsigned char)*s) &&
		    strchr("-.!%*_+`'~", *s) == NULL)
			return 0;
	return 1;
}

/*
 * "sip:" or "sips:", optional user@, a host, an optional :port, then only
 * ;params or ?headers. The SIP stack parses it for real; this catches
 * typos at start-up instead of on the first request.
 */
static int
is_sip_uri(const char *s)
{
	const char *h, *e, *at;
	char *end;
	long port;

	if (strncasecmp(s, "sip:", 4) == 0)
		h = s + 4;
	else if (strncasecmp(s, "sips:", 5) == 0)
		h = s + 5;
	else
		return 0;
	for (e = s; *e != '\0'; e++)
		if (isspace((unsigned char)*e) || iscntrl((unsigned char)*e))
			return 0;
	at = strchr(h, '@');
	if (at != NULL && at < h + strcspn(h, ";?"))
		h = at + 1;
	if (*h == '[' && (e = strchr(h, ']')) != NULL)
		e++;
	else
		e = h + strcspn(h, ":;?");
	if (!is_host(h, (size_t)(e - h)))
		return 0;
	if (*e == ':') {
		if (!isdigit((unsigned char)e[1]))
			return 0;
		errno = 0;
		port = strtol(e + 1, &end, 10);
		if (errno != 0 || port < 1 || port > 65535)
			return 0;
		e = end;
	}
	return *e == '\0' || *e == ';' || *e == '?';
}

static void load_group(struct loader *, const config_setting_t *,
    const char *, const struct option *, void *);

static int
get_integer(const config_setting_t *s, long long *v)
{
	switch (config_setting_type(s)) {
	case CONFIG_TYPE_INT:
		*v = config_setting_get_int(s);
		return 1;
	case CONFIG_TYPE_INT64:
		*v = config_setting_get_int64(s);
		return 1;
	default:
		return 0;
	}
}

static void
load_option(struct loader *l, const config_setting_t *s, const char *path,
    const struct option *o, void *base)
{
	char *at = (char *)base + o->off;
	long long v;

	switch (o->kind) {
	case K_GROUP:
		if (!config_setting_is_group(s))
			err(l, s, "%s: expected a group", path);
		else
			load_group(l, s, path, o->sub, base);
		break;
	case K_BOOL:
		if (config_setting_type(s) != CONFIG_TYPE_BOOL)
			err(l, s, "%s: expected a boolean", path);
		else
			*(int *)(void *)at = config_setting_get_bool(s);
		break;
	case K_INT:
	case K_UINT:
	case K_SIZE:
		if (!get_integer(s, &v))
			err(l, s, "%s: expected an integer", path);
		else if (v < o->min || v > o->max)
			err(l, s, "%s: %lld is out of range [%lld..%lld]", path,
			    v, o->min, o->max);
		else if (o->kind == K_INT)
			*(int *)(void *)at = (int)v;
		else if (o->kind == K_SIZE)
			*(size_t *)(void *)at = (size_t)v;
		else
			*(unsigned *)(void *)at = (unsigned)v;
		break;
	case K_FN:
		o->fn(l, s, path, o, base);
		break;
	}
}

/* Every member of g must be one of opts; path "" is the top level. */
static void
load_group(struct loader *l, const config_setting_t *g, const char *path,
    const struct option *opts, void *base)
{
	const config_setting_t *s;
	const struct option *o;
	char sub[PATHSZ];
	int i;

	for (i = 0; (s = config_setting_get_elem(g, (unsigned)i)) != NULL;
	    i++) {
		for (o = opts; o->name != NULL; o++)
			if (strcmp(o->name, config_setting_name(s)) == 0)
				break;
		if (o->name == NULL) {
			err(l, s, "unknown setting \"%s%s%s\"", path,
			    *path != '\0' ? "." : "", config_setting_name(s));
			continue;
		}
		snprintf(sub, sizeof(sub), "%s%s%s", path,
		    *path != '\0' ? "." : "", o->name);
		load_option(l, s, sub, o, base);
	}
}

static void
opt_target(struct loader *l, const config_setting_t *s, const char *path,
    const struct option *o, void *base)
{
	struct conf *c = base;
	const char *v;

	(void)o;
	if (!is_string(l, s, path))
		return;
	v = config_setting_get_string(s);
	if (strcmp(v, "stderr") == 0)
		c->log_target = LOG_TO_STDERR;
	else if (strcmp(v, "syslog") == 0)
		c->log_target = LOG_TO_SYSLOG;
	else
		err(l, s, "%s: unknown target \"%s\"", path, v);
}

static void
opt_level(struct loader *l, const config_setting_t *s, const char *path,
    const struct option *o, void *base)
{
	struct conf *c = base;
	const char *v;
	int level;

	(void)o;
	if (!is_string(l, s, path))
		return;
	v = config_setting_get_string(s);
	level = log_level_from_name(v);
	/* emerg..crit exist in syslog but would hide real errors. */
	if (level < LOG_ERR)
		err(l, s, "%s: unknown level \"%s\"", path, v);
	else
		c->log_level = level;
}

static void
opt_facility(struct loader *l, const config_setting_t *s, const char *path,
    const struct option *o, void *base)
{
	struct conf *c = base;
	const char *v;
	int facility;

	(void)o;
	if (!is_string(l, s, path))
		return;
	v = config_setting_get_string(s);
	facility = log_facility_from_name(v);
	if (facility < 0)
		err(l, s, "%s: unknown facility \"%s\"", path, v);
	else
		c->log_facility = facility;
}

static void
opt_transport(struct loader *l, const config_setting_t *s, const char *path,
    const struct option *o, void *base)
{
	struct conf_listen *ls = base;
	const char *v;
	size_t i;

	(void)o;
	if (!is_string(l, s, path))
		return;
	v = config_setting_get_string(s);
	for (i = 0; i < sizeof(transport_names) / sizeof(transport_names[0]);
	    i++) {
		if (strcmp(v, transport_names[i]) == 0) {
			ls->transport = (enum conf_transport)i;
			return;
		}
	}
	err(l, s, "%s: unknown transport \"%s\"", path, v);
}

static int
parse_ip(const char *s, unsigned char out[16])
{
	memset(out, 0, 16);
	return inet_pton(AF_INET, s, out) == 1 ||
	    inet_pton(AF_INET6, s, out) == 1;
}

static void
opt_address(struct loader *l, const config_setting_t *s, const char *path,
    const struct option *o, void *base)
{
	struct conf_listen *ls = base;
	unsigned char ip[16];
	const char *v;

	(void)o;
	if (!is_string(l, s, path))
		return;
	v = config_setting_get_string(s);
	if (!parse_ip(v, ip))
		err(l, s, "%s: \"%s\" is not a numeric IPv4 or IPv6 address",
		    path, v);
	else
		ls->address = xstrdup(l, v);
}

/*
 * Same transport, address and port is a plain duplicate; TCP and TLS on
 * the same address and port would fight over one TCP socket.
 */
static void
check_clash(struct loader *l, const config_setting_t *e, const char *path,
    const struct conf_listen *ls, size_t n)
{
	const struct conf_listen *o;
	unsigned char a[16], b[16];
	size_t i;

	parse_ip(ls->address, a);
	for (i = 0; i < n; i++) {
		o = &l->c->listen[i];
		parse_ip(o->address, b);
		if (o->port != ls->port || memcmp(a, b, sizeof(a)) != 0 ||
		    (o->transport == CONF_TP_UDP) !=
		    (ls->transport == CONF_TP_UDP))
			continue;
		if (o->transport == ls->transport)
			err(l, e, "%s: duplicate listener %s %s port %d", path,
			    conf_transport_name(ls->transport), ls->address,
			    ls->port);
		else
			err(l, e, "%s: %s %s port %d clashes with %s on the "
			    "same port", path,
			    conf_transport_name(ls->transport), ls->address,
			    ls->port, conf_transport_name(o->transport));
		return;
	}
}

static void
load_listener(struct loader *l, const config_setting_t *e, const char *path)
{
	struct conf *c = l->c;
	struct conf_listen ls = { CONF_TP_UDP, NULL, 0 };
	int before = l->nerrors;

	if (!config_setting_is_group(e)) {
		err(l, e, "%s: expected a group", path);
		return;
	}
	load_group(l, e, path, listen_opts, &ls);
	if (config_setting_get_member(e, "transport") == NULL)
		err(l, e, "%s: missing \"transport\"", path);
	if (config_setting_get_member(e, "address") == NULL)
		err(l, e, "%s: missing \"address\"", path);
	if (l->nerrors != before || ls.address == NULL) {
		free(ls.address);
		return;
	}
	if (ls.port == 0)
		ls.port = ls.transport == CONF_TP_TLS ? 5061 : 5060;
	if (ls.transport == CONF_TP_TLS && l->tls_listener == NULL)
		l->tls_listener = e;
	check_clash(l, e, path, &ls, c->nlisten);
	c->listen[c->nlisten++] = ls;
}

typedef void elem_fn(struct loader *, const config_setting_t *, const char *);

/* Entries of a list of groups: -1 (reported) when s is not such a list. */
static int
group_list_len(struct loader *l, const config_setting_t *s, const char *path)
{
	if (!config_setting_is_list(s)) {
		err(l, s, "%s: expected a list of groups", path);
		return -1;
	}
	return config_setting_length(s);
}

/* Load each entry with its own path ("sip.listen[2]"); the loader of an
 * entry appends it to the array the caller sized. */
static void
each_entry(struct loader *l, const config_setting_t *s, const char *path,
    elem_fn *load)
{
	char sub[PATHSZ];
	int i, n = config_setting_length(s);

	for (i = 0; i < n; i++) {
		snprintf(sub, sizeof(sub), "%s[%d]", path, i);
		load(l, config_setting_get_elem(s, (unsigned)i), sub);
	}
}

static void
opt_listen(struct loader *l, const config_setting_t *s, const char *path,
    const struct option *o, void *base)
{
	struct conf *c = base;
	int n;

	(void)o;
	l->listen_seen = 1;
	if ((n = group_list_len(l, s, path)) < 0)
		return;
	if (n == 0) {
		err(l, s, "%s: must not be empty", path);
		return;
	}
	if ((c->listen = xcalloc(l, (size_t)n, sizeof(*c->listen))) != NULL)
		each_entry(l, s, path, load_listener);
}

static void
opt_own_names(struct loader *l, const config_setting_t *s, const char *path,
    const struct option *o, void *base)
{
	struct conf *c = base;
	const config_setting_t *e;
	unsigned char ip[16];
	const char *v;
	int i, n;

	(void)o;
	if ((n = strings(l, s, path)) <= 0)
		return;
	if ((c->own_names = xcalloc(l, (size_t)n, sizeof(char *))) == NULL)
		return;
	for (i = 0; i < n; i++) {
		e = config_setting_get_elem(s, (unsigned)i);
		v = config_setting_get_string(e);
		if (!is_host(v, strlen(v)) && !parse_ip(v, ip))
			err(l, e, "%s: \"%s\" is not a host name or IP address",
			    path, v);
		else if ((c->own_names[c->nown_names] = lower(xstrdup(l, v)))
		    != NULL)
			c->nown_names++;
	}
}

/* Checked even without a TLS listener: a wrong path is still a mistake. */
static int
check_readable(struct loader *l, const config_setting_t *s, const char *path,
    const char *file, struct stat *st)
{
	int fd;

	fd = open(file, O_RDONLY | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0) {
		err(l, s, "%s: cannot read \"%s\": %s", path, file,
		    strerror(errno));
		return 0;
	}
	if (fstat(fd, st) < 0) {
		err(l, s, "%s: cannot read \"%s\": %s", path, file,
		    strerror(errno));
		close(fd);
		return 0;
	}
	close(fd);
	if (!S_ISREG(st->st_mode)) {
		err(l, s, "%s: \"%s\" is not a regular file", path, file);
		return 0;
	}
	return 1;
}

/*
 * A relative name is anchored to the directory of the configuration file
 * (as an operator reading the file expects, whatever directory the daemon
 * was started from; it moves to "/" anyway): "pki/proxy.pem" next to
 * /etc/e2mproxyd.conf is /etc/pki/proxy.pem.
 */
static char *
absolute(struct loader *l, const char *file)
{
	char cwd[4096], *p;
	const char *slash = strrchr(l->path, '/');
	int dirlen = slash != NULL ? (int)(slash - l->path) : 0;
	size_t len;

	if (file[0] == '/')
		return xstrdup(l, file);
	cwd[0] = '\0';
	if (l->path[0] != '/' && getcwd(cwd, sizeof(cwd)) == NULL)
		return xstrdup(l, file);
	len = strlen(cwd) + 1 + (size_t)dirlen + 1 + strlen(file) + 1;
	if ((p = malloc(len)) == NULL) {
		l->oom = 1;
		return NULL;
	}
	if (l->path[0] == '/')
		snprintf(p, len, "%.*s/%s", dirlen, l->path, file);
	else if (slash != NULL)
		snprintf(p, len, "%s/%.*s/%s", cwd, dirlen, l->path, file);
	else
		snprintf(p, len, "%s/%s", cwd, file);
	return p;
}

/*
 * A file named in the configuration: *to gets its absolute name, and it
 * must be a readable regular file. A private key (secret) must not be
 * accessible by group or others either.
 */
static void
check_file(struct loader *l, const config_setting_t *s, const char *path,
    const char *file, int secret, char **to)
{
	struct stat st;

	/* Messages name the file where it was looked for. */
	if ((*to = absolute(l, file)) == NULL)
		return;
	if (!check_readable(l, s, path, *to, &st))
		return;
	if (secret && (st.st_mode & 077) != 0)
		err(l, s, "%s: \"%s\" is accessible by other users "
		    "(mode %04o); chmod 600 it", path, *to,
		    (unsigned)(st.st_mode & 07777));
}

/* Empty means "not set" and is stored as NULL. */
static void
tls_file(struct loader *l, const config_setting_t *s, const char *path,
    const struct option *o, void *base, int secret)
{
	const char *v;

	if (!is_string(l, s, path))
		return;
	v = config_setting_get_string(s);
	if (*v != '\0')
		check_file(l, s, path, v, secret,
		    (char **)(void *)((char *)base + o->off));
}

static void
opt_tls_file(struct loader *l, const config_setting_t *s, const char *path,
    const struct option *o, void *base)
{
	tls_file(l, s, path, o, base, 0);
}

static void
opt_tls_key(struct loader *l, const config_setting_t *s, const char *path,
    const struct option *o, void *base)
{
	tls_file(l, s, path, o, base, 1);
}

/* In a keys entry, unlike in tls, an empty name cannot mean "none". */
static void
pair_file(struct loader *l, const config_setting_t *s, const char *path,
    int secret, char **to)
{
	const char *v;

	if (!is_string(l, s, path))
		return;
	v = config_setting_get_string(s);
	if (*v == '\0')
		err(l, s, "%s: must not be empty", path);
	else
		check_file(l, s, path, v, secret, to);
}

static void
opt_pair_certificate(struct loader *l, const config_setting_t *s,
    const char *path, const struct option *o, void *base)
{
	struct conf_keypair *kp = base;

	(void)o;
	pair_file(l, s, path, 0, &kp->certificate);
}

static void
opt_pair_key(struct loader *l, const config_setting_t *s, const char *path,
    const struct option *o, void *base)
{
	struct conf_keypair *kp = base;

	(void)o;
	pair_file(l, s, path, 1, &kp->key);
}

static void
load_keypair(struct loader *l, const config_setting_t *e, const char *path)
{
	struct conf *c = l->c;
	struct conf_keypair *kp = &c->inspect_keys[c->ninspect_keys++];

	/* Kept even when broken, so that conf_free() has one owner. */
	if (!config_setting_is_group(e)) {
		err(l, e, "%s: expected a group", path);
		return;
	}
	load_group(l, e, path, keypair_opts, kp);
	if (config_setting_get_member(e, "certificate") == NULL)
		err(l, e, "%s: missing \"certificate\"", path);
	if (config_setting_get_member(e, "key") == NULL)
		err(l, e, "%s: missing \"key\"", path);
}

static void
opt_inspect_keys(struct loader *l, const config_setting_t *s,
    const char *path, const struct option *o, void *base)
{
	struct conf *c = base;
	int n;

	(void)o;
	if ((n = group_list_len(l, s, path)) > 0 &&
	    (c->inspect_keys = xcalloc(l, (size_t)n,
	    sizeof(*c->inspect_keys))) != NULL)
		each_entry(l, s, path, load_keypair);
}

/* An array of readable files; empty is fine (none). */
static void
file_array(struct loader *l, const config_setting_t *s, const char *path,
    char ***to, size_t *n)
{
	const config_setting_t *e;
	int i, len;

	if ((len = strings(l, s, path)) <= 0)
		return;
	if ((*to = xcalloc(l, (size_t)len, sizeof(char *))) == NULL)
		return;
	for (i = 0; i < len; i++) {
		e = config_setting_get_elem(s, (unsigned)i);
		check_file(l, e, path, config_setting_get_string(e), 0,
		    &(*to)[(*n)++]);
	}
}

static void
opt_trust_anchors(struct loader *l, const config_setting_t *s,
    const char *path, const struct option *o, void *base)
{
	struct conf *c = base;

	(void)o;
	file_array(l, s, path, &c->trust_anchors, &c->ntrust_anchors);
}

static void
opt_crl_files(struct loader *l, const config_setting_t *s, const char *path,
    const struct option *o, void *base)
{
	struct conf *c = base;

	(void)o;
	file_array(l, s, path, &c->crl_files, &c->ncrl_files);
}

static void
opt_content_ciphers(struct loader *l, const config_setting_t *s,
    const char *path, const struct option *o, void *base)
{
	struct conf *c = base;
	const config_setting_t *e;
	const char *v;
	size_t j;
	int i, n;

	(void)o;
	l->ciphers_seen = 1;
	if ((n = strings(l, s, path)) < 0)
		return;
	if (n == 0) {
		err(l, s, "%s: must not be empty; leave it out to accept all "
		    "six", path);
		return;
	}
	if ((c->content_ciphers = xcalloc(l, (size_t)n, sizeof(char *))) ==
	    NULL)
		return;
	for (i = 0; i < n; i++) {
		e = config_setting_get_elem(s, (unsigned)i);
		v = config_setting_get_string(e);
		for (j = 0; j < NCONTENT_CIPHERS; j++)
			if (strcmp(v, content_cipher_names[j]) == 0)
				break;
		if (j == NCONTENT_CIPHERS) {
			err(l, e, "%s: unknown cipher \"%s\"", path, v);
			continue;
		}
		for (j = 0; j < c->ncontent_ciphers; j++)
			if (strcmp(v, c->content_ciphers[j]) == 0)
				break;
		if (j < c->ncontent_ciphers)
			err(l, e, "%s: duplicate cipher \"%s\"", path, v);
		else if ((c->content_ciphers[c->ncontent_ciphers] =
		    xstrdup(l, v)) != NULL)
			c->ncontent_ciphers++;
	}
}

static void
store_uri(struct loader *l, const config_setting_t *s, const char *path,
    const char *v, char **to)
{
	if (!is_sip_uri(v))
		err(l, s, "%s: \"%s\" is not a sip: or sips: URI", path, v);
	else
		*to = xstrdup(l, v);
}

static void
opt_next_hop(struct loader *l, const config_setting_t *s, const char *path,
    const struct option *o, void *base)
{
	struct conf_route *r = base;

	(void)o;
	if (is_string(l, s, path))
		store_uri(l, s, path, config_setting_get_string(s),
		    &r->next_hop);
}

/* Empty is how the shipped file says "none": the key is always present. */
static void
opt_default_next_hop(struct loader *l, const config_setting_t *s,
    const char *path, const struct option *o, void *base)
{
	struct conf *c = base;
	const char *v;

	(void)o;
	if (!is_string(l, s, path))
		return;
	v = config_setting_get_string(s);
	if (*v != '\0')
		store_uri(l, s, path, v, &c->default_next_hop);
}

static void
opt_domain(struct loader *l, const config_setting_t *s, const char *path,
    const struct option *o, void *base)
{
	struct conf_route *r = base;
	const char *v, *h;

	(void)o;
	if (!is_string(l, s, path))
		return;
	v = config_setting_get_string(s);
	h = strncmp(v, "*.", 2) == 0 ? v + 2 : v;
	if (!is_host(h, strlen(h)))
		err(l, s, "%s: \"%s\" is not a domain name or \"*.domain\"",
		    path, v);
	else
		r->domain = lower(xstrdup(l, v));
}

static void
opt_methods(struct loader *l, const config_setting_t *s, const char *path,
    const struct option *o, void *base)
{
	struct conf_route *r = base;
	const config_setting_t *e;
	const char *v;
	int i, n;

	(void)o;
	if ((n = nonempty_strings(l, s, path, "method")) <= 0)
		return;
	if ((r->methods = xcalloc(l, (size_t)n, sizeof(char *))) == NULL)
		return;
	for (i = 0; i < n; i++) {
		e = config_setting_get_elem(s, (unsigned)i);
		v = config_setting_get_string(e);
		if (!is_token(v))
			err(l, e, "%s: \"%s\" is not a SIP method name", path,
			    v);
		else if ((r->methods[r->nmethods] = upper(xstrdup(l, v))) !=
		    NULL)
			r->nmethods++;
	}
}

/*
 * n strings of s (already checked) as networks into a new array *out;
 * *count gets the ones that parse, each other one is an error.
 */
static void
load_networks(struct loader *l, const config_setting_t *s, const char *path,
    int n, struct netaddr **out, size_t *count)
{
	const config_setting_t *e;
	const char *v;
	int i;

	if ((*out = xcalloc(l, (size_t)n, sizeof(**out))) == NULL)
		return;
	for (i = 0; i < n; i++) {
		e = config_setting_get_elem(s, (unsigned)i);
		v = config_setting_get_string(e);
		if (netaddr_parse(&(*out)[*count], v) < 0)
			err(l, e, "%s: \"%s\" is not an IPv4 or IPv6 network",
			    path, v);
		else
			(*count)++;
	}
}

static void
opt_sources(struct loader *l, const config_setting_t *s, const char *path,
    const struct option *o, void *base)
{
	struct conf_route *r = base;
	int n;

	(void)o;
	if ((n = nonempty_strings(l, s, path, "source")) > 0)
		load_networks(l, s, path, n, &r->sources, &r->nsources);
}

/* sip.source_exempt: networks the datagram budget never applies to. */
static void
opt_source_exempt(struct loader *l, const config_setting_t *s,
    const char *path, const struct option *o, void *base)
{
	struct conf *c = base;
	int n;

	(void)o;
	if ((n = strings(l, s, path)) > 0)
		load_networks(l, s, path, n, &c->source_exempt,
		    &c->nsource_exempt);
}

static void
free_route(struct conf_route *r)
{
	size_t i;

	free(r->domain);
	for (i = 0; i < r->nmethods; i++)
		free(r->methods[i]);
	free(r->methods);
	free(r->sources);
	free(r->next_hop);
}

static void
load_rule(struct loader *l, const config_setting_t *e, const char *path)
{
	struct conf *c = l->c;
	struct conf_route r;

	if (!config_setting_is_group(e)) {
		err(l, e, "%s: expected a group", path);
		return;
	}
	memset(&r, 0, sizeof(r));
	r.line = (int)config_setting_source_line(e);
	load_group(l, e, path, rule_opts, &r);
	if (config_setting_get_member(e, "next_hop") == NULL)
		err(l, e, "%s: missing \"next_hop\"", path);
	/* Kept even when broken, so that conf_free() has one owner. */
	c->routes[c->nroutes++] = r;
}

static void
opt_rules(struct loader *l, const config_setting_t *s, const char *path,
    const struct option *o, void *base)
{
	struct conf *c = base;
	int n;

	(void)o;
	if ((n = group_list_len(l, s, path)) > 0 &&
	    (c->routes = xcalloc(l, (size_t)n, sizeof(*c->routes))) != NULL)
		each_entry(l, s, path, load_rule);
}

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

	return is_host(h, strlen(h));
}

/* A From user: a token (which cannot hold '@'). */
static int
is_user(const char *v)
{
	return is_token(v) && strchr(v, '@') == NULL;
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
	return is_token(type) && is_token(slash + 1);
}

/*
 * A non-empty array of strings, each checked by valid(), normalised by
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

	if ((len = nonempty_strings(l, s, path, what)) <= 0)
		return;
	if ((*own = xcalloc(l, (size_t)len, sizeof(char *))) == NULL)
		return;
	*view = (const char *const *)*own;
	for (i = 0; i < len; i++) {
		e = config_setting_get_elem(s, (unsigned)i);
		v = config_setting_get_string(e);
		if (!valid(v)) {
			err(l, e, "%s: \"%s\" is not %s", path, v, bad);
			continue;
		}
		if ((p = xstrdup(l, v)) == NULL)
			return;
		(*own)[(*n)++] = norm != NULL ? norm(p) : p;
	}
}

static void
opt_pr_methods(struct loader *l, const config_setting_t *s, const char *path,
    const struct option *o, void *base)
{
	struct policy_rule *r = base;

	(void)o;
	policy_strings(l, s, path, "method", is_token, upper,
	    "a SIP method name", &owned_of(l, r)->methods, &r->methods,
	    &r->nmethods);
}

static void
opt_pr_domains(struct loader *l, const config_setting_t *s, const char *path,
    const struct option *o, void *base)
{
	struct policy_rule *r = base;

	(void)o;
	policy_strings(l, s, path, "domain", is_domain, lower,
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
	policy_strings(l, s, path, "domain", is_domain, lower,
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
	if ((n = nonempty_strings(l, s, path, "source")) <= 0)
		return;
	load_networks(l, s, path, n, &ow->sources, &r->nsources);
	r->sources = ow->sources;
}

static void
opt_pr_transports(struct loader *l, const config_setting_t *s,
    const char *path, const struct option *o, void *base)
{
	static const struct {
		const char *name;
		unsigned bit;
	} tp[] = {
		{ "udp", POLICY_TP_UDP },
		{ "tcp", POLICY_TP_TCP },
		{ "tls", POLICY_TP_TLS },
	};
	struct policy_rule *r = base;
	const config_setting_t *e;
	const char *v;
	size_t j;
	int i, n;

	(void)o;
	if ((n = nonempty_strings(l, s, path, "transport")) <= 0)
		return;
	for (i = 0; i < n; i++) {
		e = config_setting_get_elem(s, (unsigned)i);
		v = config_setting_get_string(e);
		for (j = 0; j < sizeof(tp) / sizeof(tp[0]); j++)
			if (strcmp(v, tp[j].name) == 0)
				break;
		if (j == sizeof(tp) / sizeof(tp[0]))
			err(l, e, "%s: unknown transport \"%s\"", path, v);
		else
			r->transports |= tp[j].bit;
	}
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
	if ((n = strings(l, s, path)) <= 0)
		return;
	if (n > POLICY_MAX_PRMB) {
		err(l, s, "%s: %d types, at most %d", path, n,
		    POLICY_MAX_PRMB);
		return;
	}
	if ((ow->prmb_types = xcalloc(l, (size_t)n, sizeof(char *))) == NULL)
		return;
	r->prmb_types = (const char *const *)ow->prmb_types;
	for (i = 0; i < n; i++) {
		e = config_setting_get_elem(s, (unsigned)i);
		if (!is_media_type(config_setting_get_string(e))) {
			err(l, e, "%s: \"%s\" is not a type/subtype", path,
			    config_setting_get_string(e));
			continue;
		}
		if ((v = lower(xstrdup(l, config_setting_get_string(e)))) ==
		    NULL)
			return;
		for (j = 0; j < r->nprmb_types; j++)
			if (strcmp(v, ow->prmb_types[j]) == 0)
				break;
		if (j < r->nprmb_types) {
			err(l, e, "%s: duplicate type \"%s\"", path, v);
			free(v);
		} else
			ow->prmb_types[r->nprmb_types++] = v;
	}
}

/* One of names[] (exactly); -1 after reporting. */
static int
policy_enum(struct loader *l, const config_setting_t *s, const char *path,
    const char *const *names, int n)
{
	const char *v;
	int i;

	if (!is_string(l, s, path))
		return -1;
	v = config_setting_get_string(s);
	for (i = 0; i < n; i++)
		if (strcmp(v, names[i]) == 0)
			return i;
	err(l, s, "%s: unknown value \"%s\"", path, v);
	return -1;
}

static void
opt_pr_on_missing_prmb(struct loader *l, const config_setting_t *s,
    const char *path, const struct option *o, void *base)
{
	static const char *const names[] = { "403", "forward" };
	struct policy_rule *r = base;

	(void)o;
	switch (policy_enum(l, s, path, names, 2)) {
	case 0:
		r->on_missing_prmb = POLICY_MISSING_REJECT403;
		break;
	case 1:
		r->on_missing_prmb = POLICY_MISSING_FORWARD;
		break;
	}
}

static void
opt_pr_on_bad_signature(struct loader *l, const config_setting_t *s,
    const char *path, const struct option *o, void *base)
{
	static const char *const names[] = { "403", "forward-and-log" };
	struct policy_rule *r = base;

	(void)o;
	switch (policy_enum(l, s, path, names, 2)) {
	case 0:
		r->on_bad_signature = POLICY_BADSIG_REJECT403;
		break;
	case 1:
		r->on_bad_signature = POLICY_BADSIG_FORWARD_AND_LOG;
		break;
	}
}

static void
opt_pr_on_undecipherable(struct loader *l, const config_setting_t *s,
    const char *path, const struct option *o, void *base)
{
	static const char *const names[] = { "log", "terminate" };
	struct policy_rule *r = base;

	(void)o;
	switch (policy_enum(l, s, path, names, 2)) {
	case 0:
		r->on_undecipherable_in_dialog = POLICY_INDIALOG_LOG;
		break;
	case 1:
		r->on_undecipherable_in_dialog = POLICY_INDIALOG_TERMINATE;
		break;
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
		err(l, e, "%s: expected a group", path);
		return;
	}
	load_group(l, e, path, policy_rule_opts, r);
}

/* Header names are tokens; an empty list would turn labels off
 * unnoticed (policy rules with active = false say that explicitly). */
static void
opt_label_headers(struct loader *l, const config_setting_t *s,
    const char *path, const struct option *o, void *base)
{
	struct conf *c = base;
	const config_setting_t *e;
	const char *v;
	int i, n;

	(void)o;
	if ((n = strings(l, s, path)) < 0)
		return;
	if (n == 0) {
		err(l, s, "%s: must not be empty", path);
		return;
	}
	if ((c->label_headers = xcalloc(l, (size_t)n, sizeof(char *))) ==
	    NULL)
		return;
	for (i = 0; i < n; i++) {
		e = config_setting_get_elem(s, (unsigned)i);
		v = config_setting_get_string(e);
		if (!is_token(v)) {
			err(l, e, "%s: \"%s\" is not a header name", path, v);
			continue;
		}
		if ((c->label_headers[c->nlabel_headers] = xstrdup(l, v)) !=
		    NULL)
			c->nlabel_headers++;
	}
}

static void
opt_signing_chain(struct loader *l, const config_setting_t *s,
    const char *path, const struct option *o, void *base)
{
	struct conf *c = base;

	(void)o;
	file_array(l, s, path, &c->ch_signing_chain, &c->nch_signing_chain);
}

static void
opt_ch_mode(struct loader *l, const config_setting_t *s, const char *path,
    const struct option *o, void *base)
{
	static const char *const names[] = { "signed", "legacy-unsigned" };
	struct conf *c = base;
	int v = policy_enum(l, s, path, names, 2);

	(void)o;
	if (v >= 0)
		c->ch_legacy_unsigned = v;
}

static void
opt_ch_encoding(struct loader *l, const config_setting_t *s,
    const char *path, const struct option *o, void *base)
{
	static const char *const names[] = { "binary", "base64" };
	struct conf *c = base;
	int v = policy_enum(l, s, path, names, 2);

	(void)o;
	if (v >= 0)
		c->ch_base64 = v;
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
	if (!is_string(l, s, path))
		return;
	v = config_setting_get_string(s);
	if (*v == '\0')
		return;
	if (v[0] == '[' && (e = strchr(v, ']')) != NULL)
		e++;
	else
		e = v + strcspn(v, ":");
	n = (size_t)(e - v);
	if (!is_host(v, n) || (*e == ':' && (e[1] == '\0' ||
	    strspn(e + 1, "0123456789") != strlen(e + 1) ||
	    strlen(e + 1) > 5)) || (*e != '\0' && *e != ':')) {
		err(l, s, "%s: \"%s\" is not a host or host:port", path, v);
		return;
	}
	c->ch_warn_agent = xstrdup(l, v);
}

/* A reason phrase goes on the status line as is: no line breaks or other
 * control characters. */
static void
opt_phrase(struct loader *l, const config_setting_t *s, const char *path,
    const struct option *o, void *base)
{
	char **to = (char **)(void *)((char *)base + o->off);
	const char *v, *p;

	if (!is_string(l, s, path))
		return;
	v = config_setting_get_string(s);
	for (p = v; *p != '\0'; p++)
		if (iscntrl((unsigned char)*p) && *p != '\t') {
			err(l, s, "%s: control characters are not allowed",
			    path);
			return;
		}
	free(*to);
	*to = xstrdup(l, v);
}

/* Empty is fine: no rules, the mechanism is not applied. */
static void
opt_policy_rules(struct loader *l, const config_setting_t *s,
    const char *path, const struct option *o, void *base)
{
	struct conf *c = base;
	int n;

	(void)o;
	if ((n = group_list_len(l, s, path)) <= 0)
		return;
	if ((c->policy_rules = xcalloc(l, (size_t)n,
	    sizeof(*c->policy_rules))) == NULL ||
	    (c->policy_owned = xcalloc(l, (size_t)n,
	    sizeof(*c->policy_owned))) == NULL)
		return;
	each_entry(l, s, path, load_policy_rule);
}

static void
default_listeners(struct loader *l)
{
	static const enum conf_transport tp[] = { CONF_TP_UDP, CONF_TP_TCP };
	struct conf *c = l->c;
	size_t i;

	if ((c->listen = xcalloc(l, 2, sizeof(*c->listen))) == NULL)
		return;
	for (i = 0; i < 2; i++) {
		c->listen[i].transport = tp[i];
		c->listen[i].port = 5060;
		if ((c->listen[i].address = xstrdup(l, "127.0.0.1")) == NULL)
			return;
		c->nlisten++;
	}
}

/*
 * A TLS listener needs all three files. Point at the empty setting, else
 * at the tls group, else at the listener that wants them.
 */
static void
check_tls(struct loader *l, const config_t *cfg)
{
	const struct {
		const char *path;
		const char *value;
	} need[] = {
		{ "tls.certificate", l->c->tls_certificate },
		{ "tls.key", l->c->tls_key },
		{ "tls.ca_file", l->c->tls_ca_file },
	};
	const config_setting_t *at, *tls = config_lookup(cfg, "tls");
	size_t i;

	if (l->tls_listener == NULL)
		return;
	/* A tls that is not a group was reported; its members are unknown. */
	if (tls != NULL && !config_setting_is_group(tls))
		return;
	for (i = 0; i < sizeof(need) / sizeof(need[0]); i++) {
		if (need[i].value != NULL)
			continue;
		at = config_lookup(cfg, need[i].path);
		if (at != NULL && config_setting_type(at) != CONFIG_TYPE_STRING)
			continue; /* already reported as the wrong type */
		if (at == NULL && (at = tls) == NULL)
			at = l->tls_listener;
		err(l, at, "%s: must be set when there is a tls listener",
		    need[i].path);
	}
}

/*
 * An integer setting named by its full path: -1 when the file does not
 * have it, 1 when its value was taken (it equals what is stored), 0 when
 * it was refused (and reported).
 */
static int
int_setting(const config_t *cfg, const char *name, long long stored,
    const config_setting_t **at)
{
	const config_setting_t *s = config_lookup(cfg, name);
	long long v;

	if (at != NULL)
		*at = s;
	if (s == NULL)
		return -1;
	return get_integer(s, &v) && v == stored;
}

/*
 * A body larger than a whole message could never arrive: an explicit
 * inspect.max_body must fit sip.max_message_size; the default shrinks
 * to it. Then the defaults that need allocating or the machine.
 */
static void
check_inspect(struct loader *l, const config_t *cfg)
{
	struct conf *c = l->c;
	const config_setting_t *at;
	long cpus;
	size_t i;
	int body, msg;

	body = int_setting(cfg, "inspect.max_body", (long long)c->max_body,
	    &at);
	msg = int_setting(cfg, "sip.max_message_size",
	    (long long)c->max_message_size, NULL);
	if (c->max_body > c->max_message_size) {
		if (body < 0)
			c->max_body = c->max_message_size;
		else if (body > 0 && msg != 0)
			err(l, at, "inspect.max_body: %zu exceeds "
			    "sip.max_message_size (%u)", c->max_body,
			    c->max_message_size);
	}
	if (c->workers == 0) {
		cpus = sysconf(_SC_NPROCESSORS_ONLN);
		c->workers = cpus < 1 ? 1 : cpus > 64 ? 64 : (unsigned)cpus;
	}
	if (l->ciphers_seen)
		return;
	if ((c->content_ciphers = xcalloc(l, NCONTENT_CIPHERS,
	    sizeof(char *))) == NULL)
		return;
	for (i = 0; i < NCONTENT_CIPHERS; i++)
		if ((c->content_ciphers[i] = xstrdup(l,
		    content_cipher_names[i])) != NULL)
			c->ncontent_ciphers++;
}

static void
default_string(struct loader *l, char **to, const char *v)
{
	if (*to == NULL)
		*to = xstrdup(l, v);
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
		c->ch_warn_agent = xstrdup(l, c->own_names[0]);
		return;
	}
	if (c->nlisten == 0)
		return;
	snprintf(buf, sizeof(buf), strchr(c->listen[0].address, ':') ?
	    "[%s]" : "%s", c->listen[0].address);
	c->ch_warn_agent = xstrdup(l, buf);
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
static void
check_challenge(struct loader *l, const config_t *cfg)
{
	struct conf *c = l->c;
	const config_setting_t *at, *g = config_lookup(cfg, "challenge");
	const char *missing[3], *why[3];
	size_t i, n = 0;

	if (c->label_headers == NULL && (c->label_headers = xcalloc(l, 2,
	    sizeof(char *))) != NULL) {
		c->label_headers[c->nlabel_headers++] = xstrdup(l,
		    "Proxy-Inspect-Body");
		c->label_headers[c->nlabel_headers++] = xstrdup(l,
		    "Proxy-Required-Body");
	}
	default_string(l, &c->ch_496_phrase, "Proxy Undecipherable");
	default_string(l, &c->ch_495_phrase, "Signature Required");
	default_warn_agent(l);
	if (c->ch_encryption_certificate == NULL && c->ninspect_keys > 0 &&
	    c->inspect_keys[0].certificate != NULL)
		c->ch_encryption_certificate = xstrdup(l,
		    c->inspect_keys[0].certificate);
	if (c->ch_496_code == c->ch_495_code)
		err(l, config_lookup(cfg, "challenge.signature_code"),
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
		err(l, at, "%s: must be set when a policy rule is active%s",
		    missing[i], why[i]);
	}
}

static void
set_defaults(struct conf *c)
{
	c->log_target = LOG_TO_STDERR;
	c->log_level = LOG_INFO;
	c->log_facility = LOG_DAEMON;
	c->sip_trace = 0;
	c->record_route = 1;
	c->max_forwards = 70;
	c->transaction_timeout_ms = 32000;
	c->udp_mtu = 1300;
	c->udp_buffer = 4194304;
	c->max_message_size = 65536;
	c->tls_verify_server = 1;
	c->tls_verify_client = 0;
	c->max_body = 65536;
	c->max_depth = 8;
	c->max_parts = 32;
	c->workers = 0;
	c->queue = 256;
	c->retry_after = 5;
	c->decrypt_rate = 100;
	c->decrypt_burst = 200;
	c->ch_sign_495 = 1;
	c->ch_496_code = 496;
	c->ch_495_code = 495;
	c->ch_warn_code = 380;
	c->ch_rate = 10;
	c->ch_burst = 20;
}

/* libconfig's own file errors say only "file I/O error"; errno says more. */
static FILE *
open_config(struct loader *l)
{
	struct stat st;
	FILE *fp;

	if ((fp = fopen(l->path, "r")) == NULL) {
		err(l, NULL, "cannot open: %s", strerror(errno));
		return NULL;
	}
	if (fstat(fileno(fp), &st) < 0) {
		err(l, NULL, "cannot open: %s", strerror(errno));
		fclose(fp);
		return NULL;
	}
	/* fopen() happily opens a directory; reading it fails obscurely. */
	if (S_ISDIR(st.st_mode)) {
		err(l, NULL, "cannot open: %s", strerror(EISDIR));
		fclose(fp);
		return NULL;
	}
	return fp;
}

static void
syntax_error(struct loader *l, const config_t *cfg)
{
	const char *file = config_error_file(cfg);

	err_at(l, file != NULL ? file : l->path,
	    (unsigned)config_error_line(cfg), "%s", config_error_text(cfg));
}

struct conf *
conf_load(const char *path, conf_error_fn *fn, void *arg)
{
	struct loader l;
	struct conf *c;
	config_t cfg;
	FILE *fp;

	memset(&l, 0, sizeof(l));
	l.path = path;
	l.fn = fn;
	l.arg = arg;
	if ((c = calloc(1, sizeof(*c))) == NULL ||
	    (c->path = strdup(path)) == NULL) {
		free(c);
		err(&l, NULL, "out of memory");
		return NULL;
	}
	l.c = c;
	set_defaults(c);
	if ((fp = open_config(&l)) == NULL) {
		conf_free(c);
		return NULL;
	}
	config_init(&cfg);
	if (!config_read(&cfg, fp)) {
		syntax_error(&l, &cfg);
	} else {
		load_group(&l, config_root_setting(&cfg), "", top_opts, c);
		if (!l.listen_seen)
			default_listeners(&l);
		check_tls(&l, &cfg);
		check_inspect(&l, &cfg);
		check_challenge(&l, &cfg);
		if (c->source_burst == 0)
			c->source_burst = c->source_rate > 0 ?
			    2 * c->source_rate : 1;
	}
	config_destroy(&cfg);
	fclose(fp);
	if (l.oom)
		err(&l, NULL, "out of memory");
	if (l.nerrors > 0) {
		conf_free(c);
		return NULL;
	}
	return c;
}

static void
free_strings(char **v, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

static void
free_policy_rule(const struct policy_rule *r, struct conf_policy_owned *o)
{
	free_strings(o->methods, r->nmethods);
	free_strings(o->ruri_domains, r->nruri_domains);
	free_strings(o->from_users, r->nfrom_users);
	free_strings(o->from_domains, r->nfrom_domains);
	free(o->sources);
	free_strings(o->prmb_types, r->nprmb_types);
}

void
conf_free(struct conf *c)
{
	size_t i;

	if (c == NULL)
		return;
	for (i = 0; i < c->nlisten; i++)
		free(c->listen[i].address);
	free(c->listen);
	for (i = 0; i < c->nown_names; i++)
		free(c->own_names[i]);
	free(c->own_names);
	free(c->source_exempt);
	free(c->tls_certificate);
	free(c->tls_key);
	free(c->tls_ca_file);
	free(c->default_next_hop);
	for (i = 0; i < c->nroutes; i++)
		free_route(&c->routes[i]);
	free(c->routes);
	for (i = 0; i < c->ninspect_keys; i++) {
		free(c->inspect_keys[i].certificate);
		free(c->inspect_keys[i].key);
	}
	free(c->inspect_keys);
	free_strings(c->trust_anchors, c->ntrust_anchors);
	free_strings(c->crl_files, c->ncrl_files);
	free_strings(c->content_ciphers, c->ncontent_ciphers);
	for (i = 0; i < c->npolicy_rules; i++)
		free_policy_rule(&c->policy_rules[i], &c->policy_owned[i]);
	free(c->policy_rules);
	free(c->policy_owned);
	free_strings(c->label_headers, c->nlabel_headers);
	free(c->ch_signing_certificate);
	free(c->ch_signing_key);
	free_strings(c->ch_signing_chain, c->nch_signing_chain);
	free(c->ch_encryption_certificate);
	free(c->ch_warn_agent);
	free(c->ch_496_phrase);
	free(c->ch_495_phrase);
	free(c->path);
	free(c);
}
