/*
 * uaopts.c - e2mua's configuration file and command line.
 *
 * The file is flat (one setting per option, named as in e2mua(1)) so that
 * each command-line flag has exactly one counterpart and a reader of a
 * script can find it in the man page.
 */
#include "ua/uaopts.h"

#include <getopt.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <libconfig.h>

#include "ua/uaoutbound.h"

/* Media is not the tool's business: a fixed offer. */
const char uaopts_sdp_offer[] = "v=0\r\no=e2mua 1 1 IN IP4 127.0.0.1\r\n"
    "s=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 49170 RTP/AVP 0\r\n";

#define OPTSTRING "F:t:f:o:b:c:m:T:s:dLe:x:SCr:R:a:n:P:lk:N:IH:g:E:i:K:Vh"
static const struct option longopts[] = {
	{ "register", required_argument, NULL, 'g' },
	{ "expires", required_argument, NULL, 'E' },
	{ "instance", required_argument, NULL, 'i' },
	{ "keepalive", required_argument, NULL, 'K' },
	{ "help", no_argument, NULL, 'h' },
	{ "version", no_argument, NULL, 'V' },
	{ NULL, 0, NULL, 0 },
};

enum kind { K_STR, K_UINT, K_BOOL, K_LIST, K_CHOICE, K_PROXIES };

struct key {
	const char *name;
	enum kind kind;
	size_t off;         /* the field in struct uaopts */
	size_t noff;        /* K_LIST: its count */
	const char *no, *yes; /* K_CHOICE: the values meaning 0 and 1 */
};

#define F(m) offsetof(struct uaopts, m)
static const struct key keys[] = {
	{ "to", K_STR, F(to), 0, NULL, NULL },
	{ "from", K_STR, F(from), 0, NULL, NULL },
	{ "outbound_proxy", K_STR, F(proxy), 0, NULL, NULL },
	{ "bind", K_STR, F(bind), 0, NULL, NULL },
	{ "content_type", K_STR, F(type), 0, NULL, NULL },
	{ "text", K_STR, F(text), 0, NULL, NULL },
	{ "timeout", K_UINT, F(timeout), 0, NULL, NULL },
	{ "sign_certificate", K_STR, F(sign_cert), 0, NULL, NULL },
	{ "sign_key", K_STR, F(sign_key), 0, NULL, NULL },
	{ "sign_format", K_CHOICE, F(signed_data), 0, "multipart",
	    "signed-data" },
	{ "sign_when", K_CHOICE, F(lazy_sign), 0, "always", "asked" },
	{ "peer_certificates", K_LIST, F(peer_certs), F(npeer), NULL, NULL },
	{ "proxies", K_PROXIES, F(proxies), F(nproxies), NULL, NULL },
	{ "envelopes", K_CHOICE, F(separate), 0, "shared", "separate" },
	{ "cipher", K_CHOICE, F(cbc), 0, "aes-128-gcm", "aes-128-cbc" },
	{ "trust_anchors", K_LIST, F(trust), F(ntrust), NULL, NULL },
	{ "crl_files", K_LIST, F(crls), F(ncrl), NULL, NULL },
	{ "allowed_proxies", K_LIST, F(allow), F(nallow), NULL, NULL },
	{ "max_proxies", K_UINT, F(max_proxies), 0, NULL, NULL },
	{ "max_skew", K_UINT, F(max_skew), 0, NULL, NULL },
	{ "cache", K_STR, F(cache_file), 0, NULL, NULL },
	{ "cache_ttl", K_UINT, F(cache_ttl), 0, NULL, NULL },
	{ "listen", K_BOOL, F(listen), 0, NULL, NULL },
	{ "call", K_BOOL, F(invite), 0, NULL, NULL },
	{ "hold", K_UINT, F(hold), 0, NULL, NULL },
	{ "decrypt_certificate", K_STR, F(dec_cert), 0, NULL, NULL },
	{ "decrypt_key", K_STR, F(dec_key), 0, NULL, NULL },
	{ "count", K_UINT, F(count), 0, NULL, NULL },
	{ "registrar", K_STR, F(registrar), 0, NULL, NULL },
	{ "expires", K_UINT, F(expires), 0, NULL, NULL },
	{ "instance", K_STR, F(instance), 0, NULL, NULL },
	{ "keepalive", K_UINT, F(keepalive), 0, NULL, NULL },
};
#undef F

#define AT(o, off, type) ((type *)(void *)((char *)(o) + (off)))

struct ferr {
	FILE *f;
	const char *file;
	int n;
};

static void
ferr(struct ferr *e, const config_setting_t *s, const char *fmt, ...)
{
	va_list ap;

	fprintf(e->f, "%s:%d: ", e->file, config_setting_source_line(s));
	va_start(ap, fmt);
	vfprintf(e->f, fmt, ap);
	va_end(ap);
	fputc('\n', e->f);
	e->n++;
}

static const char *
string_of(struct ferr *e, const config_setting_t *s, const char *name)
{
	if (config_setting_type(s) != CONFIG_TYPE_STRING) {
		ferr(e, s, "%s: expected a string", name);
		return NULL;
	}
	return config_setting_get_string(s);
}

static void
load_list(struct ferr *e, const config_setting_t *s, const struct key *k,
    struct uaopts *o)
{
	const char **arr = AT(o, k->off, const char *);
	size_t *n = AT(o, k->noff, size_t);
	const char *v;
	int i;

	if (!config_setting_is_array(s) && !config_setting_is_list(s)) {
		ferr(e, s, "%s: expected a list of strings", k->name);
		return;
	}
	for (i = 0; i < config_setting_length(s); i++) {
		if ((v = string_of(e, config_setting_get_elem(s, (unsigned)i),
		    k->name)) == NULL)
			continue;
		if (*n == UAOPTS_MAX_LIST) {
			ferr(e, s, "%s: more than %d entries", k->name,
			    UAOPTS_MAX_LIST);
			return;
		}
		arr[(*n)++] = v;
	}
}

static void
load_proxy(struct ferr *e, const config_setting_t *p, struct uaopts *o)
{
	const char *host = NULL, *cert = NULL, *v;
	const config_setting_t *s;
	int i;

	if (!config_setting_is_group(p)) {
		ferr(e, p, "proxies: expected { host; certificate; }");
		return;
	}
	for (i = 0; (s = config_setting_get_elem(p, (unsigned)i)) != NULL;
	    i++) {
		const char *name = config_setting_name(s);

		if (strcmp(name, "host") == 0 || strcmp(name, "certificate") ==
		    0) {
			if ((v = string_of(e, s, name)) != NULL)
				*(name[0] == 'h' ? &host : &cert) = v;
		} else
			ferr(e, s, "proxies: unknown setting \"%s\"", name);
	}
	if (host == NULL || cert == NULL || *host == '\0' || *cert == '\0') {
		ferr(e, p, "proxies: host and certificate are both needed");
		return;
	}
	if (o->nproxies == UAMSG_MAX_PROXIES) {
		ferr(e, p, "proxies: more than %d", UAMSG_MAX_PROXIES);
		return;
	}
	o->proxies[o->nproxies].host = host;
	o->proxies[o->nproxies++].cert_file = cert;
}

static void
load_key(struct ferr *e, const config_setting_t *s, const struct key *k,
    struct uaopts *o)
{
	const char *v;
	long long n;
	int i;

	switch (k->kind) {
	case K_STR:
		if ((v = string_of(e, s, k->name)) != NULL)
			*AT(o, k->off, const char *) = v;
		break;
	case K_UINT:
		if (config_setting_type(s) != CONFIG_TYPE_INT &&
		    config_setting_type(s) != CONFIG_TYPE_INT64) {
			ferr(e, s, "%s: expected a number", k->name);
			break;
		}
		n = config_setting_get_int64(s);
		if (config_setting_type(s) == CONFIG_TYPE_INT)
			n = config_setting_get_int(s);
		if (n < 0 || n > 86400 * 365)
			ferr(e, s, "%s: %lld is out of range", k->name, n);
		else
			*AT(o, k->off, unsigned) = (unsigned)n;
		break;
	case K_BOOL:
		if (config_setting_type(s) != CONFIG_TYPE_BOOL)
			ferr(e, s, "%s: expected true or false", k->name);
		else
			*AT(o, k->off, int) = config_setting_get_bool(s);
		break;
	case K_CHOICE:
		if ((v = string_of(e, s, k->name)) == NULL)
			break;
		if (strcmp(v, k->no) != 0 && strcmp(v, k->yes) != 0)
			ferr(e, s, "%s: \"%s\" is neither \"%s\" nor \"%s\"",
			    k->name, v, k->no, k->yes);
		else
			*AT(o, k->off, int) = strcmp(v, k->yes) == 0;
		break;
	case K_LIST:
		load_list(e, s, k, o);
		break;
	case K_PROXIES:
		if (!config_setting_is_list(s)) {
			ferr(e, s, "proxies: expected ( { host; certificate; } )");
			break;
		}
		for (i = 0; i < config_setting_length(s); i++)
			load_proxy(e, config_setting_get_elem(s, (unsigned)i),
			    o);
		break;
	}
}

static int
load_file(const char *file, struct uaopts *o, FILE *errf)
{
	config_t *cfg = calloc(1, sizeof(*cfg));
	struct ferr e = { errf, file, 0 };
	const config_setting_t *root, *s;
	size_t k;
	int i;

	if (cfg == NULL)
		return -1;
	o->cfg_ = cfg;
	config_init(cfg);
	if (config_read_file(cfg, file) != CONFIG_TRUE) {
		if (config_error_type(cfg) == CONFIG_ERR_FILE_IO)
			fprintf(errf, "%s: cannot read the file\n", file);
		else
			fprintf(errf, "%s:%d: %s\n", config_error_file(cfg) ?
			    config_error_file(cfg) : file,
			    config_error_line(cfg), config_error_text(cfg));
		return -1;
	}
	root = config_root_setting(cfg);
	for (i = 0; (s = config_setting_get_elem(root, (unsigned)i)) != NULL;
	    i++) {
		for (k = 0; k < sizeof(keys) / sizeof(keys[0]); k++)
			if (strcmp(keys[k].name, config_setting_name(s)) == 0)
				break;
		if (k == sizeof(keys) / sizeof(keys[0]))
			ferr(&e, s, "unknown setting \"%s\"",
			    config_setting_name(s));
		else
			load_key(&e, s, &keys[k], o);
	}
	return e.n == 0 ? 0 : -1;
}

static int
split_pair(char *arg, char sep, const char **a, const char **b)
{
	char *p = strchr(arg, sep);

	if (p == NULL || p == arg || p[1] == '\0')
		return -1;
	*p = '\0';
	*a = arg;
	*b = p + 1;
	return 0;
}

static int
add(const char **arr, size_t *n, const char *v)
{
	if (*n == UAOPTS_MAX_LIST)
		return -1;
	arr[(*n)++] = v;
	return 0;
}

static int
number(const char *s, unsigned *v)
{
	char *end;
	unsigned long n = strtoul(s, &end, 10);

	if (*s < '0' || *s > '9' || *end != '\0' || n > 86400UL * 365)
		return -1;
	*v = (unsigned)n;
	return 0;
}

/* One command-line option over what the file said; -1 is a usage error. */
static int
apply(int ch, char *arg, struct uaopts *o)
{
	switch (ch) {
	case 'F': return 0; /* read before the others */
	case 't': o->to = arg; return 0;
	case 'f': o->from = arg; return 0;
	case 'o': o->proxy = arg; return 0;
	case 'b': o->bind = arg; return 0;
	case 'c': o->type = arg; return 0;
	case 'm': o->text = arg; return 0;
	case 'T': return number(arg, &o->timeout);
	case 's': return split_pair(arg, ':', &o->sign_cert, &o->sign_key);
	case 'd': o->signed_data = 1; return 0;
	case 'L': o->lazy_sign = 1; return 0;
	case 'e': return add(o->peer_certs, &o->npeer, arg);
	case 'x':
		if (o->nproxies == UAMSG_MAX_PROXIES)
			return -1;
		if (split_pair(arg, '=', &o->proxies[o->nproxies].host,
		    &o->proxies[o->nproxies].cert_file) != 0)
			return -1;
		o->nproxies++;
		return 0;
	case 'r': return add(o->trust, &o->ntrust, arg);
	case 'R': return add(o->crls, &o->ncrl, arg);
	case 'a': return add(o->allow, &o->nallow, arg);
	case 'n': return number(arg, &o->max_proxies);
	case 'P': o->cache_file = arg; return 0;
	case 'l': o->listen = 1; return 0;
	case 'I': o->invite = 1; return 0;
	case 'H': return number(arg, &o->hold);
	case 'k': return split_pair(arg, ':', &o->dec_cert, &o->dec_key);
	case 'N': return number(arg, &o->count);
	case 'g': o->registrar = arg; return 0;
	case 'E': return number(arg, &o->expires);
	case 'i': o->instance = arg; return 0;
	case 'K': return number(arg, &o->keepalive);
	case 'S': o->separate = 1; return 0;
	case 'C': o->cbc = 1; return 0;
	default: return -1;
	}
}

static void
defaults(struct uaopts *o)
{
	memset(o, 0, sizeof(*o));
	o->from = "sip:e2mua@localhost";
	o->bind = "sip:127.0.0.1:*";
	o->timeout = 10;
	o->max_proxies = 3;
	o->max_skew = 300;
	o->cache_ttl = 86400;
	o->expires = 600;
}

/* The file named by -F, before any other option (they override it). */
static const char *
config_arg(int argc, char **argv)
{
	const char *file = NULL;
	int ch;

	opterr = 0;
	optind = 0; /* glibc: start over, fully (a caller may parse twice) */
	while ((ch = getopt_long(argc, argv, OPTSTRING, longopts, NULL)) != -1)
		if (ch == 'F')
			file = optarg;
	opterr = 1;
	optind = 0;
	return file;
}

/* What depends on more than one option. */
static int
complete(struct uaopts *o, int argc)
{
	/* -T 0 listens until a signal; a caller must give up some time. */
	if (optind != argc || (o->timeout == 0 && !o->listen))
		return -1;
	/* Registering is what a listening device does; an expiry of 0 is
	 * the unregistration at exit, not a setting. */
	if (o->registrar != NULL && (!o->listen || o->expires == 0 ||
	    (o->instance != NULL && !uaob_instance_ok(o->instance))))
		return -1;
	if ((o->sign_cert == NULL) != (o->sign_key == NULL) ||
	    (o->dec_cert == NULL) != (o->dec_key == NULL))
		return -1;
	if (o->invite && o->type == NULL) {
		o->type = "application/sdp";
		if (o->text == NULL)
			o->text = uaopts_sdp_offer;
	}
	if (o->type == NULL)
		o->type = "text/plain";
	if (o->text == NULL)
		o->text = "hello from e2mua";
	return o->listen || o->to != NULL ? 0 : -1;
}

enum uaopts_result
uaopts_parse(int argc, char **argv, struct uaopts *o, FILE *errf)
{
	int ch;

	defaults(o);
	o->config_file = config_arg(argc, argv);
	if (o->config_file != NULL && load_file(o->config_file, o, errf) != 0)
		return UAOPTS_BAD_FILE;
	while ((ch = getopt_long(argc, argv, OPTSTRING, longopts, NULL)) !=
	    -1) {
		if (ch == 'V')
			return UAOPTS_VERSION;
		if (ch == 'h')
			return UAOPTS_HELP;
		if (apply(ch, optarg, o) != 0)
			return UAOPTS_USAGE;
	}
	return complete(o, argc) == 0 ? UAOPTS_OK : UAOPTS_USAGE;
}

void
uaopts_free(struct uaopts *o)
{
	if (o->cfg_ != NULL) {
		config_destroy(o->cfg_);
		free(o->cfg_);
		o->cfg_ = NULL;
	}
}

void
uaopts_usage(FILE *f)
{
	fprintf(f,
	    "usage: e2mua [-F FILE] -t TO-URI [-f FROM-URI] [-o OUTBOUND-PROXY]\n"
	    "             [-b BIND-URI] [-c TYPE] [-m TEXT] [-T SECONDS] [-I [-H S]]\n"
	    "             [-s CERT:KEY [-d] [-L]] [-e PEER-CERT]... [-k CERT:KEY]\n"
	    "             [-x HOST=PROXY-CERT]... [-S] [-C]\n"
	    "             [-r TRUST-ANCHORS]... [-R CRL]... [-a ALLOWED-PROXY]...\n"
	    "             [-n N] [-P CACHE-FILE]\n"
	    "       e2mua [-F FILE] -l -b BIND-URI [-k CERT:KEY] [-r CA]...\n"
	    "             [-e PEER-CERT]... [-x HOST=PROXY-CERT]... [-N COUNT]\n"
	    "             [-T SECONDS] [-g REGISTRAR-URI [-f AOR] [-o PROXY]\n"
	    "             [-E SECONDS] [-i URN] [-K SECONDS]]\n"
	    "       e2mua -h | -V\n"
	    "  -F  configuration file (libconfig; options below override it)\n"
	    "  -I  a call (SDP offer, ACK, -H seconds, BYE) instead of a MESSAGE\n"
	    "  -s  sign (PEM certificate and key); -d signed-data instead of\n"
	    "      multipart/signed; -L sign only when a 495 asks\n"
	    "  -e  encrypt to this certificate; -k decrypt what comes back\n"
	    "  -x  also disclose to this proxy and label it; -S separate\n"
	    "      envelopes for proxies; -C AES-128-CBC instead of GCM\n"
	    "  -r  trust anchors for 496 challenges and signatures; -R CRLs\n"
	    "  -a  a proxy host that may inspect; -n at most N proxies added\n"
	    "      by challenges (default 3); -P remember them in this file\n"
	    "  -l  UAS: answer MESSAGE and INVITE (SDP answer protected by\n"
	    "      -e/-x), one JSON line each; -N stop after COUNT requests;\n"
	    "      -T 0 until SIGINT or SIGTERM\n"
	    "  -g  (--register) with -l: register -f's AOR there (RFC 5626\n"
	    "      outbound, through -o), refresh, unregister at exit;\n"
	    "      -E (--expires) expiry asked (600), -i (--instance)\n"
	    "      +sip.instance URN (default: random per run), -K\n"
	    "      (--keepalive) CRLF keep-alive seconds (default: Flow-Timer)\n"
	    "exit: 0 2xx, 1 other final response, 2 usage or configuration,\n"
	    "      3 local error, 4 timeout, 5 challenge refused\n"
	    "See e2mua(1).\n");
}
