/*
 * conf.c - the daemon's configuration: a libconfig file -> struct conf.
 * The log, sip, tls, routing and inspect sections, the checks across
 * them, and loading and freeing as a whole; the policy and challenge
 * sections are conf_policy.c's, the machinery confload.c's.
 */
#if !defined(_GNU_SOURCE) && !defined(_POSIX_C_SOURCE)
#define _POSIX_C_SOURCE 200809L /* strdup, fileno, O_CLOEXEC under -std=c11 */
#endif

#include "proxyd/conf.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <libconfig.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "proxyd/confload.h"

static option_fn opt_target, opt_level, opt_listen,
    opt_own_names, opt_default_next_hop, opt_rules, opt_transport,
    opt_address, opt_domain, opt_methods, opt_sources, opt_source_exempt,
    opt_next_hop, opt_inspect_keys, opt_trust_anchors, opt_crl_files,
    opt_content_ciphers, opt_pair_certificate, opt_pair_key,
    opt_label_headers, opt_ident;

static const struct conf_name log_formats[] = {
	{ "text", LOG_FORMAT_TEXT },
	{ "json", LOG_FORMAT_JSON },
	{ NULL, 0 }
};

static const struct option log_opts[] = {
	O_FN("target", opt_target),
	O_FN("level", opt_level),
	O_FNAT("facility", cl_opt_facility, log_facility),
	O_NAME("format", log_formats, CONF_OFF(log_format)),
	O_FNAT("ident", opt_ident, log_ident),
	O_BOOL("sip_trace", sip_trace),
	O_END
};

static const struct option sip_opts[] = {
	O_FN("listen", opt_listen),
	O_FN("own_names", opt_own_names),
	O_BOOL("record_route", record_route),
	O_INT("max_forwards", 1, 255, CONF_OFF(max_forwards)),
	O_UINT("transaction_timeout", 1000, 300000, transaction_timeout_ms),
	O_UINT("idle_timeout", 5, 86400, idle_timeout_s),
	O_UINT("message_timeout", 0, 3600, message_timeout_s),
	O_UINT("send_timeout", 0, 3600, send_timeout_s),
	O_UINT("max_connections_per_source", 0, 65536,
	    max_connections_per_source),
	O_UINT("udp_mtu", 500, 65535, udp_mtu),
	O_UINT("udp_buffer", 65536, 67108864, udp_buffer),
	O_UINT("max_message_size", 4096, 1048576, max_message_size),
	O_UINT("source_rate", 0, 1000000, source_rate),
	O_UINT("source_burst", 1, 10000000, source_burst),
	O_FN("source_exempt", opt_source_exempt),
	O_END
};

static const struct option tls_opts[] = {
	O_FNAT("certificate", cl_opt_file, tls_certificate),
	O_FNAT("key", cl_opt_secret, tls_key),
	O_FNAT("ca_file", cl_opt_file, tls_ca_file),
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

static const struct option top_opts[] = {
	O_GROUP("daemon", conf_daemon_opts),
	O_GROUP("log", log_opts),
	O_GROUP("sip", sip_opts),
	O_GROUP("tls", tls_opts),
	O_GROUP("routing", routing_opts),
	O_GROUP("inspect", inspect_opts),
	O_GROUP("policy", conf_policy_opts),
	O_GROUP("challenge", conf_challenge_opts),
	O_GROUP("archive", conf_archive_opts),
	O_GROUP("pinholes", conf_pinholes_opts),
	O_GROUP("edge", conf_edge_opts),
	O_GROUP("overload", conf_overload_opts),
	O_GROUP("metrics", conf_metrics_opts),
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

static void
opt_target(struct loader *l, const config_setting_t *s, const char *path,
    const struct option *o, void *base)
{
	struct conf *c = base;
	const char *v;

	(void)o;
	if (!cl_is_string(l, s, path))
		return;
	v = config_setting_get_string(s);
	if (strcmp(v, "stderr") == 0)
		c->log_target = LOG_TO_STDERR;
	else if (strcmp(v, "syslog") == 0)
		c->log_target = LOG_TO_SYSLOG;
	else
		cl_err(l, s, "%s: unknown target \"%s\"", path, v);
}

/* A syslog ident: what journalctl -t and syslog filters match on. */
static void
opt_ident(struct loader *l, const config_setting_t *s, const char *path,
    const struct option *o, void *base)
{
	char **to = (char **)(void *)((char *)base + o->off);
	const char *v, *p;

	if (!cl_is_string(l, s, path))
		return;
	v = config_setting_get_string(s);
	for (p = v; *p != '\0'; p++)
		if (!isalnum((unsigned char)*p) && strchr("-_.", *p) == NULL)
			break;
	if (*v == '\0' || *p != '\0' || p - v > 32) {
		cl_err(l, s, "%s: \"%s\" is not an ident (1-32 letters, "
		    "digits, \"-\", \"_\", \".\")", path, v);
		return;
	}
	free(*to);
	*to = cl_strdup(l, v);
}

static void
opt_level(struct loader *l, const config_setting_t *s, const char *path,
    const struct option *o, void *base)
{
	struct conf *c = base;
	const char *v;
	int level;

	(void)o;
	if (!cl_is_string(l, s, path))
		return;
	v = config_setting_get_string(s);
	level = log_level_from_name(v);
	/* emerg..crit exist in syslog but would hide real errors. */
	if (level < LOG_ERR)
		cl_err(l, s, "%s: unknown level \"%s\"", path, v);
	else
		c->log_level = level;
}

static void
opt_transport(struct loader *l, const config_setting_t *s, const char *path,
    const struct option *o, void *base)
{
	struct conf_listen *ls = base;
	const char *v;
	size_t i;

	(void)o;
	if (!cl_is_string(l, s, path))
		return;
	v = config_setting_get_string(s);
	for (i = 0; i < sizeof(transport_names) / sizeof(transport_names[0]);
	    i++) {
		if (strcmp(v, transport_names[i]) == 0) {
			ls->transport = (enum conf_transport)i;
			return;
		}
	}
	cl_err(l, s, "%s: unknown transport \"%s\"", path, v);
}

static int
parse_ip(const char *s, unsigned char out[16])
{
	memset(out, 0, 16);
	if (inet_pton(AF_INET, s, out) == 1)
		return AF_INET;
	return inet_pton(AF_INET6, s, out) == 1 ? AF_INET6 : 0;
}

static void
opt_address(struct loader *l, const config_setting_t *s, const char *path,
    const struct option *o, void *base)
{
	struct conf_listen *ls = base;
	unsigned char ip[16];
	const char *v;

	(void)o;
	if (!cl_is_string(l, s, path))
		return;
	v = config_setting_get_string(s);
	if (!parse_ip(v, ip))
		cl_err(l, s, "%s: \"%s\" is not a numeric IPv4 or IPv6 address",
		    path, v);
	else
		ls->address = cl_strdup(l, v);
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
	int fa, fb;
	size_t i;

	/* The family too: 0.0.0.0 and :: are both zeros (and Sofia's ::
	 * is IPv6 only, so the two listen side by side). */
	fa = parse_ip(ls->address, a);
	for (i = 0; i < n; i++) {
		o = &l->c->listen[i];
		fb = parse_ip(o->address, b);
		if (o->port != ls->port || fa != fb ||
		    memcmp(a, b, sizeof(a)) != 0 ||
		    (o->transport == CONF_TP_UDP) !=
		    (ls->transport == CONF_TP_UDP))
			continue;
		if (o->transport == ls->transport)
			cl_err(l, e, "%s: duplicate listener %s %s port %d",
			    path, conf_transport_name(ls->transport),
			    ls->address, ls->port);
		else
			cl_err(l, e, "%s: %s %s port %d clashes with %s on the "
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
		cl_err(l, e, "%s: expected a group", path);
		return;
	}
	cl_load_group(l, e, path, listen_opts, &ls);
	if (config_setting_get_member(e, "transport") == NULL)
		cl_err(l, e, "%s: missing \"transport\"", path);
	if (config_setting_get_member(e, "address") == NULL)
		cl_err(l, e, "%s: missing \"address\"", path);
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

static void
opt_listen(struct loader *l, const config_setting_t *s, const char *path,
    const struct option *o, void *base)
{
	struct conf *c = base;
	int n;

	(void)o;
	l->listen_seen = 1;
	if ((n = cl_group_list_len(l, s, path)) < 0)
		return;
	if (n == 0) {
		cl_err(l, s, "%s: must not be empty", path);
		return;
	}
	if ((c->listen = cl_calloc(l, (size_t)n, sizeof(*c->listen))) != NULL)
		cl_each_entry(l, s, path, load_listener);
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
	if ((n = cl_strings(l, s, path)) <= 0)
		return;
	if ((c->own_names = cl_calloc(l, (size_t)n, sizeof(char *))) == NULL)
		return;
	for (i = 0; i < n; i++) {
		e = config_setting_get_elem(s, (unsigned)i);
		v = config_setting_get_string(e);
		if (!cl_is_host(v, strlen(v)) && !parse_ip(v, ip))
			cl_err(l, e,
			    "%s: \"%s\" is not a host name or IP address",
			    path, v);
		else if ((c->own_names[c->nown_names] =
		    cl_lower(cl_strdup(l, v))) != NULL)
			c->nown_names++;
	}
}

/* In a keys entry, unlike in tls, an empty name cannot mean "none". */
static void
pair_file(struct loader *l, const config_setting_t *s, const char *path,
    int secret, char **to)
{
	const char *v;

	if (!cl_is_string(l, s, path))
		return;
	v = config_setting_get_string(s);
	if (*v == '\0')
		cl_err(l, s, "%s: must not be empty", path);
	else
		cl_check_file(l, s, path, v, secret, to);
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
		cl_err(l, e, "%s: expected a group", path);
		return;
	}
	cl_load_group(l, e, path, keypair_opts, kp);
	if (config_setting_get_member(e, "certificate") == NULL)
		cl_err(l, e, "%s: missing \"certificate\"", path);
	if (config_setting_get_member(e, "key") == NULL)
		cl_err(l, e, "%s: missing \"key\"", path);
}

static void
opt_inspect_keys(struct loader *l, const config_setting_t *s,
    const char *path, const struct option *o, void *base)
{
	struct conf *c = base;
	int n;

	(void)o;
	if ((n = cl_group_list_len(l, s, path)) > 0 &&
	    (c->inspect_keys = cl_calloc(l, (size_t)n,
	    sizeof(*c->inspect_keys))) != NULL)
		cl_each_entry(l, s, path, load_keypair);
}

static void
opt_trust_anchors(struct loader *l, const config_setting_t *s,
    const char *path, const struct option *o, void *base)
{
	struct conf *c = base;

	(void)o;
	cl_file_array(l, s, path, &c->trust_anchors, &c->ntrust_anchors);
}

static void
opt_crl_files(struct loader *l, const config_setting_t *s, const char *path,
    const struct option *o, void *base)
{
	struct conf *c = base;

	(void)o;
	cl_file_array(l, s, path, &c->crl_files, &c->ncrl_files);
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
	if ((n = cl_strings(l, s, path)) < 0)
		return;
	if (n == 0) {
		cl_err(l, s, "%s: must not be empty; leave it out to accept "
		    "all six", path);
		return;
	}
	if ((c->content_ciphers = cl_calloc(l, (size_t)n, sizeof(char *))) ==
	    NULL)
		return;
	for (i = 0; i < n; i++) {
		e = config_setting_get_elem(s, (unsigned)i);
		v = config_setting_get_string(e);
		for (j = 0; j < NCONTENT_CIPHERS; j++)
			if (strcmp(v, content_cipher_names[j]) == 0)
				break;
		if (j == NCONTENT_CIPHERS) {
			cl_err(l, e, "%s: unknown cipher \"%s\"", path, v);
			continue;
		}
		for (j = 0; j < c->ncontent_ciphers; j++)
			if (strcmp(v, c->content_ciphers[j]) == 0)
				break;
		if (j < c->ncontent_ciphers)
			cl_err(l, e, "%s: duplicate cipher \"%s\"", path, v);
		else if ((c->content_ciphers[c->ncontent_ciphers] =
		    cl_strdup(l, v)) != NULL)
			c->ncontent_ciphers++;
	}
}

static void
store_uri(struct loader *l, const config_setting_t *s, const char *path,
    const char *v, char **to)
{
	if (!cl_is_sip_uri(v))
		cl_err(l, s, "%s: \"%s\" is not a sip: or sips: URI", path, v);
	else
		*to = cl_strdup(l, v);
}

static void
opt_next_hop(struct loader *l, const config_setting_t *s, const char *path,
    const struct option *o, void *base)
{
	struct conf_route *r = base;

	(void)o;
	if (cl_is_string(l, s, path))
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
	if (!cl_is_string(l, s, path))
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
	if (!cl_is_string(l, s, path))
		return;
	v = config_setting_get_string(s);
	h = strncmp(v, "*.", 2) == 0 ? v + 2 : v;
	if (!cl_is_host(h, strlen(h)))
		cl_err(l, s, "%s: \"%s\" is not a domain name or \"*.domain\"",
		    path, v);
	else
		r->domain = cl_lower(cl_strdup(l, v));
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
	if ((n = cl_nonempty_strings(l, s, path, "method")) <= 0)
		return;
	if ((r->methods = cl_calloc(l, (size_t)n, sizeof(char *))) == NULL)
		return;
	for (i = 0; i < n; i++) {
		e = config_setting_get_elem(s, (unsigned)i);
		v = config_setting_get_string(e);
		if (!cl_is_token(v))
			cl_err(l, e, "%s: \"%s\" is not a SIP method name",
			    path, v);
		else if ((r->methods[r->nmethods] =
		    cl_upper(cl_strdup(l, v))) != NULL)
			r->nmethods++;
	}
}

static void
opt_sources(struct loader *l, const config_setting_t *s, const char *path,
    const struct option *o, void *base)
{
	struct conf_route *r = base;
	int n;

	(void)o;
	if ((n = cl_nonempty_strings(l, s, path, "source")) > 0)
		cl_load_networks(l, s, path, n, &r->sources, &r->nsources);
}

/* sip.source_exempt: networks the datagram budget never applies to. */
static void
opt_source_exempt(struct loader *l, const config_setting_t *s,
    const char *path, const struct option *o, void *base)
{
	struct conf *c = base;
	int n;

	(void)o;
	if ((n = cl_strings(l, s, path)) > 0)
		cl_load_networks(l, s, path, n, &c->source_exempt,
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
		cl_err(l, e, "%s: expected a group", path);
		return;
	}
	memset(&r, 0, sizeof(r));
	r.line = (int)config_setting_source_line(e);
	cl_load_group(l, e, path, rule_opts, &r);
	if (config_setting_get_member(e, "next_hop") == NULL)
		cl_err(l, e, "%s: missing \"next_hop\"", path);
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
	if ((n = cl_group_list_len(l, s, path)) > 0 &&
	    (c->routes = cl_calloc(l, (size_t)n, sizeof(*c->routes))) != NULL)
		cl_each_entry(l, s, path, load_rule);
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
	if ((n = cl_strings(l, s, path)) < 0)
		return;
	if (n == 0) {
		cl_err(l, s, "%s: must not be empty", path);
		return;
	}
	if ((c->label_headers = cl_calloc(l, (size_t)n, sizeof(char *))) ==
	    NULL)
		return;
	for (i = 0; i < n; i++) {
		e = config_setting_get_elem(s, (unsigned)i);
		v = config_setting_get_string(e);
		if (!cl_is_token(v)) {
			cl_err(l, e, "%s: \"%s\" is not a header name", path,
			    v);
			continue;
		}
		if ((c->label_headers[c->nlabel_headers] = cl_strdup(l, v)) !=
		    NULL)
			c->nlabel_headers++;
	}
}

static void
default_listeners(struct loader *l)
{
	static const enum conf_transport tp[] = { CONF_TP_UDP, CONF_TP_TCP };
	struct conf *c = l->c;
	size_t i;

	if ((c->listen = cl_calloc(l, 2, sizeof(*c->listen))) == NULL)
		return;
	for (i = 0; i < 2; i++) {
		c->listen[i].transport = tp[i];
		c->listen[i].port = 5060;
		if ((c->listen[i].address = cl_strdup(l, "127.0.0.1")) == NULL)
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
		cl_err(l, at, "%s: must be set when there is a tls listener",
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
	return cl_get_integer(s, &v) && v == stored;
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
			cl_err(l, at, "inspect.max_body: %zu exceeds "
			    "sip.max_message_size (%u)", c->max_body,
			    c->max_message_size);
	}
	if (c->workers == 0) {
		cpus = sysconf(_SC_NPROCESSORS_ONLN);
		c->workers = cpus < 1 ? 1 : cpus > 64 ? 64 : (unsigned)cpus;
	}
	if (c->label_headers == NULL && (c->label_headers = cl_calloc(l, 2,
	    sizeof(char *))) != NULL) {
		c->label_headers[c->nlabel_headers++] = cl_strdup(l,
		    "Proxy-Inspect-Body");
		c->label_headers[c->nlabel_headers++] = cl_strdup(l,
		    "Proxy-Required-Body");
	}
	if (l->ciphers_seen)
		return;
	if ((c->content_ciphers = cl_calloc(l, NCONTENT_CIPHERS,
	    sizeof(char *))) == NULL)
		return;
	for (i = 0; i < NCONTENT_CIPHERS; i++)
		if ((c->content_ciphers[i] = cl_strdup(l,
		    content_cipher_names[i])) != NULL)
			c->ncontent_ciphers++;
}

static void
set_defaults(struct conf *c)
{
	c->log_target = LOG_TO_STDERR;
	c->log_level = LOG_INFO;
	c->log_facility = LOG_DAEMON;
	c->log_format = LOG_FORMAT_TEXT;
	c->sip_trace = 0;
	c->record_route = 1;
	c->max_forwards = 70;
	c->transaction_timeout_ms = 32000;
	c->idle_timeout_s = 1800;
	c->message_timeout_s = 20;
	c->send_timeout_s = 30;
	c->max_connections_per_source = 1024;
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
	conf_services_defaults(c);
	conf_daemon_defaults(c);
	conf_edge_defaults(c);
	conf_overload_defaults(c);
}

/* libconfig's own file errors say only "file I/O error"; errno says more. */
static FILE *
open_config(struct loader *l)
{
	struct stat st;
	FILE *fp;

	if ((fp = fopen(l->path, "r")) == NULL) {
		cl_err(l, NULL, "cannot open: %s", strerror(errno));
		return NULL;
	}
	if (fstat(fileno(fp), &st) < 0) {
		cl_err(l, NULL, "cannot open: %s", strerror(errno));
		fclose(fp);
		return NULL;
	}
	/* fopen() happily opens a directory; reading it fails obscurely. */
	if (S_ISDIR(st.st_mode)) {
		cl_err(l, NULL, "cannot open: %s", strerror(EISDIR));
		fclose(fp);
		return NULL;
	}
	return fp;
}

static void
syntax_error(struct loader *l, const config_t *cfg)
{
	const char *file = config_error_file(cfg);

	cl_err_at(l, file != NULL ? file : l->path,
	    (unsigned)config_error_line(cfg), "%s", config_error_text(cfg));
}

static struct conf *
load(const char *path, int contents, conf_error_fn *fn, void *arg)
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
		cl_err(&l, NULL, "out of memory");
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
		cl_load_group(&l, config_root_setting(&cfg), "", top_opts, c);
		if (!l.listen_seen)
			default_listeners(&l);
		check_tls(&l, &cfg);
		check_inspect(&l, &cfg);
		conf_check_challenge(&l, &cfg);
		conf_check_services(&l, &cfg);
		conf_check_daemon(&l, &cfg);
		conf_check_edge(&l, &cfg);
		conf_check_overload(&l, &cfg);
		if (c->source_burst == 0)
			c->source_burst = c->source_rate > 0 ?
			    2 * c->source_rate : 1;
		/* Only once every file named is there to be read. */
		if (contents && l.nerrors == 0 && !l.oom)
			conf_check_contents(&l, &cfg);
	}
	config_destroy(&cfg);
	fclose(fp);
	if (l.oom)
		cl_err(&l, NULL, "out of memory");
	if (l.nerrors > 0) {
		conf_free(c);
		return NULL;
	}
	return c;
}

struct conf *
conf_load(const char *path, conf_error_fn *fn, void *arg)
{
	return load(path, 0, fn, arg);
}

struct conf *
conf_load_checked(const char *path, conf_error_fn *fn, void *arg)
{
	return load(path, 1, fn, arg);
}

void
conf_free(struct conf *c)
{
	size_t i;

	if (c == NULL)
		return;
	free(c->log_ident);
	conf_free_daemon(c);
	free(c->edge_flow_key);
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
	cl_free_strings(c->trust_anchors, c->ntrust_anchors);
	cl_free_strings(c->crl_files, c->ncrl_files);
	cl_free_strings(c->content_ciphers, c->ncontent_ciphers);
	for (i = 0; i < c->npolicy_rules; i++)
		conf_free_policy_rule(&c->policy_rules[i], &c->policy_owned[i]);
	free(c->policy_rules);
	free(c->policy_owned);
	cl_free_strings(c->label_headers, c->nlabel_headers);
	free(c->ch_signing_certificate);
	free(c->ch_signing_key);
	cl_free_strings(c->ch_signing_chain, c->nch_signing_chain);
	free(c->ch_encryption_certificate);
	free(c->ch_warn_agent);
	free(c->ch_496_phrase);
	free(c->ch_495_phrase);
	conf_free_services(c);
	free(c->path);
	free(c);
}

/*
 * conf_schema_each(). The tables of list entries (sip.listen,
 * routing.rules, inspect.keys, policy.rules) hang off no option: each
 * is read by its list's function, so this maps the function to the
 * table. A new list of groups must be added here, or its settings go
 * unlisted (and undocumented: tests/conf/t_manpage.sh).
 */
static const struct option *
entry_opts(const struct option *o)
{
	if (o->kind != K_FN)
		return NULL;
	if (o->fn == opt_listen)
		return listen_opts;
	if (o->fn == opt_rules)
		return rule_opts;
	if (o->fn == opt_inspect_keys)
		return keypair_opts;
	return conf_policy_entry_opts(o);
}

static void
schema_walk(const char *prefix, const struct option *opts,
    void (*fn)(const char *, void *), void *arg)
{
	const struct option *o, *sub;
	char path[PATHSZ];
	size_t n;

	for (o = opts; o->name != NULL; o++) {
		snprintf(path, sizeof(path), "%s%s%s", prefix,
		    *prefix != '\0' ? "." : "", o->name);
		if (o->kind == K_GROUP) {
			schema_walk(path, o->sub, fn, arg);
			continue;
		}
		fn(path, arg);
		n = strlen(path);
		if ((sub = entry_opts(o)) != NULL && n + 3 <= sizeof(path)) {
			memcpy(path + n, "[]", 3);
			schema_walk(path, sub, fn, arg);
		}
	}
}

void
conf_schema_each(void (*fn)(const char *path, void *arg), void *arg)
{
	schema_walk("", top_opts, fn, arg);
}
