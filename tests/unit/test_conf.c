/* test_conf.c - configuration loading: values, defaults, every error kind. */
#if !defined(_GNU_SOURCE) && !defined(_POSIX_C_SOURCE)
#define _POSIX_C_SOURCE 200809L /* mkdtemp, strdup under -std=c11 */
#endif

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <syslog.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include "proxyd/conf.h"
#include "e2m/policy.h"
#include "t.h"

#define MAXERR 64
#define MAXFILES 32

static char tmpdir[1024];
static char *files[MAXFILES];
static size_t nfiles;
static char *errs[MAXERR];
static size_t nerrs;

static void
collect(void *arg, const char *msg)
{
	(void)arg;
	if (nerrs < MAXERR)
		errs[nerrs++] = strdup(msg);
}

static void
clear_errors(void)
{
	while (nerrs > 0)
		free(errs[--nerrs]);
}

/* printf into one of a few rotating buffers: enough for one check. */
static const char *
fmt(const char *f, ...)
{
	static char buf[8][2048];
	static int next;
	char *b = buf[next++ % 8];
	va_list ap;

	va_start(ap, f);
	vsnprintf(b, sizeof(buf[0]), f, ap);
	va_end(ap);
	return b;
}

/* Writes tmpdir/name, remembered for removal; returns its path. */
static const char *
put_file(const char *name, mode_t mode, const char *text)
{
	char path[2048];
	size_t i;
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", tmpdir, name);
	if ((f = fopen(path, "w")) == NULL || fputs(text, f) == EOF ||
	    fclose(f) != 0) {
		printf("Bail out! cannot write %s: %s\n", path,
		    strerror(errno));
		exit(1);
	}
	chmod(path, mode);
	for (i = 0; i < nfiles; i++)
		if (strcmp(files[i], path) == 0)
			return files[i];
	if (nfiles == MAXFILES || (files[nfiles] = strdup(path)) == NULL) {
		printf("Bail out! too many test files\n");
		exit(1);
	}
	return files[nfiles++];
}

/* Appended to every test file while set: the policy tests need a
 * challenge group so that their active rules are complete. */
static char *conf_tail;

static const char *
put_conf(const char *text)
{
	char *both;
	const char *p;

	if (conf_tail == NULL)
		return put_file("t.conf", 0644, text);
	if (asprintf(&both, "%s%s", text, conf_tail) < 0) {
		printf("Bail out! out of memory\n");
		exit(1);
	}
	p = put_file("t.conf", 0644, both);
	free(both);
	return p;
}

static struct conf *
load(const char *text)
{
	clear_errors();
	return conf_load(put_conf(text), collect, NULL);
}

static void
show_errors(void)
{
	size_t i;

	for (i = 0; i < nerrs; i++)
		printf("# error: %s\n", errs[i]);
}

/* A good file: loads, and reports nothing. */
static struct conf *
load_ok(const char *name, const char *text)
{
	struct conf *c = load(text);

	T_OK(c != NULL && nerrs == 0, fmt("%s: loads", name));
	show_errors();
	return c;
}

/*
 * A bad file: fails, reporting exactly want[] (NULL-terminated), each
 * "LINE: message" after the path of the file.
 */
static void
check_errors(const char *name, const char *path, const char *const *want)
{
	char line[4096], title[256];
	size_t i, n;

	for (n = 0; want[n] != NULL; n++)
		;
	snprintf(title, sizeof(title), "%s: %zu error(s)", name, n);
	T_EQ_INT(nerrs, n, title);
	for (i = 0; i < n && i < nerrs; i++) {
		snprintf(line, sizeof(line), "%s:%s", path, want[i]);
		snprintf(title, sizeof(title), "%s: error %zu", name, i + 1);
		T_EQ_STR(errs[i], line, title);
	}
	if (nerrs != n)
		show_errors();
}

/* name, text and want may come from fmt(): nothing here may call it. */
static void
expect_fail(const char *name, const char *text, const char *const *want)
{
	char path[2048], title[256];
	struct conf *c = load(text);

	snprintf(title, sizeof(title), "%s: refused", name);
	T_OK(c == NULL, title);
	conf_free(c);
	snprintf(path, sizeof(path), "%s/t.conf", tmpdir);
	check_errors(name, path, want);
}

#define EXPECT(name, text, ...) \
	expect_fail(name, text, (const char *const[]){ __VA_ARGS__, NULL })

/* What inspect.workers = 0 becomes. */
static unsigned
online_cpus(void)
{
	long n = sysconf(_SC_NPROCESSORS_ONLN);

	return n < 1 ? 1 : n > 64 ? 64 : (unsigned)n;
}

static const char *const all_ciphers[] = {
	"aes-128-cbc", "aes-192-cbc", "aes-256-cbc",
	"aes-128-gcm", "aes-192-gcm", "aes-256-gcm",
};

static void
check_inspect_defaults(const char *name, const struct conf *c)
{
	size_t i;

	T_EQ_INT(c->ninspect_keys, 0, fmt("%s: no inspect.keys", name));
	T_OK(c->inspect_keys == NULL, fmt("%s: no keys array", name));
	T_EQ_INT(c->ntrust_anchors, 0, fmt("%s: no trust_anchors", name));
	T_EQ_INT(c->ncrl_files, 0, fmt("%s: no crl_files", name));
	T_EQ_INT(c->max_body, 65536, fmt("%s: max_body", name));
	T_EQ_INT(c->max_depth, 8, fmt("%s: max_depth", name));
	T_EQ_INT(c->max_parts, 32, fmt("%s: max_parts", name));
	T_EQ_INT(c->workers, online_cpus(),
	    fmt("%s: workers = online CPUs", name));
	T_EQ_INT(c->queue, 256, fmt("%s: queue", name));
	T_EQ_INT(c->retry_after, 5, fmt("%s: retry_after", name));
	T_EQ_INT(c->ncontent_ciphers, 6, fmt("%s: all six ciphers", name));
	for (i = 0; i < 6 && i < c->ncontent_ciphers; i++)
		T_EQ_STR(c->content_ciphers[i], all_ciphers[i],
		    fmt("%s: cipher %zu", name, i));
}

static void
check_defaults(const char *name, const struct conf *c)
{
	T_EQ_INT(c->log_target, LOG_TO_STDERR, fmt("%s: log.target", name));
	T_EQ_INT(c->log_level, LOG_INFO, fmt("%s: log.level", name));
	T_EQ_INT(c->log_facility, LOG_DAEMON, fmt("%s: log.facility", name));
	T_EQ_INT(c->sip_trace, 0, fmt("%s: log.sip_trace", name));
	T_EQ_INT(c->nlisten, 2, fmt("%s: two listeners", name));
	if (c->nlisten == 2) {
		T_EQ_INT(c->listen[0].transport, CONF_TP_UDP,
		    fmt("%s: listen[0] udp", name));
		T_EQ_STR(c->listen[0].address, "127.0.0.1",
		    fmt("%s: listen[0] address", name));
		T_EQ_INT(c->listen[0].port, 5060, fmt("%s: listen[0] port",
		    name));
		T_EQ_INT(c->listen[1].transport, CONF_TP_TCP,
		    fmt("%s: listen[1] tcp", name));
		T_EQ_STR(c->listen[1].address, "127.0.0.1",
		    fmt("%s: listen[1] address", name));
		T_EQ_INT(c->listen[1].port, 5060, fmt("%s: listen[1] port",
		    name));
	}
	T_EQ_INT(c->nown_names, 0, fmt("%s: no own_names", name));
	T_EQ_INT(c->record_route, 1, fmt("%s: record_route", name));
	T_EQ_INT(c->max_forwards, 70, fmt("%s: max_forwards", name));
	T_EQ_INT(c->transaction_timeout_ms, 32000,
	    fmt("%s: transaction_timeout", name));
	T_EQ_INT(c->udp_mtu, 1300, fmt("%s: udp_mtu", name));
	T_EQ_INT(c->udp_buffer, 4194304, fmt("%s: udp_buffer", name));
	T_EQ_INT(c->max_message_size, 65536, fmt("%s: max_message_size",
	    name));
	T_EQ_STR(c->tls_certificate, NULL, fmt("%s: tls.certificate", name));
	T_EQ_STR(c->tls_key, NULL, fmt("%s: tls.key", name));
	T_EQ_STR(c->tls_ca_file, NULL, fmt("%s: tls.ca_file", name));
	T_EQ_INT(c->tls_verify_server, 1, fmt("%s: tls.verify_server", name));
	T_EQ_INT(c->tls_verify_client, 0, fmt("%s: tls.verify_client", name));
	T_EQ_STR(c->default_next_hop, NULL, fmt("%s: default_next_hop", name));
	T_EQ_INT(c->nroutes, 0, fmt("%s: no rules", name));
	T_EQ_INT(c->source_rate, 0, fmt("%s: source_rate off", name));
	T_EQ_INT(c->nsource_exempt, 0, fmt("%s: no source_exempt", name));
	check_inspect_defaults(name, c);
	T_EQ_INT(c->npolicy_rules, 0, fmt("%s: no policy rules", name));
	T_OK(c->policy_rules == NULL, fmt("%s: no policy array", name));
}

static void
test_defaults(void)
{
	struct conf *c;

	if ((c = load_ok("empty file", "")) == NULL)
		return;
	T_EQ_STR(c->path, fmt("%s/t.conf", tmpdir), "path is kept");
	check_defaults("empty file", c);
	conf_free(c);

	c = load_ok("empty groups", "log: {};\nsip: {};\ntls: {};\n"
	    "routing: {};\ninspect: {};\npolicy: {};\n");
	if (c != NULL)
		check_defaults("empty groups", c);
	conf_free(c);
}

/* The shipped file's [example] settings: an edge proxy that must see
 * MESSAGE text and INVITE SDP, keys in pki/ beside the file. */
static void
check_shipped_examples(const struct conf *c)
{
	T_OK(c->nown_names == 1 && strcmp(c->own_names[0],
	    "proxy.example.com") == 0, "shipped: own_names proxy.example.com");
	T_OK(c->ninspect_keys == 1 && strcmp(c->inspect_keys[0].certificate,
	    fmt("%s/pki/proxy.pem", tmpdir)) == 0,
	    "shipped: inspect key pki/proxy.pem, beside the file");
	T_OK(c->ntrust_anchors == 1 && strcmp(c->trust_anchors[0],
	    fmt("%s/pki/ca.pem", tmpdir)) == 0, "shipped: trust anchor");
	T_EQ_INT(c->npolicy_rules, 2, "shipped: two policy rules");
	T_EQ_INT(c->source_rate, 500, "shipped: source_rate 500");
	T_EQ_INT(c->source_burst, 1000, "shipped: source_burst twice that");
	T_EQ_STR(c->ch_signing_certificate, fmt("%s/pki/proxy-sign.pem",
	    tmpdir), "shipped: challenge signing certificate");
}

/* Apart from its [example] settings the shipped file holds exactly the
 * built-in defaults. */
static void
test_shipped(void)
{
	static const char *const pki[] = { "pki/proxy.pem", "pki/proxy.key",
	    "pki/ca.pem", "pki/proxy-sign.pem", "pki/proxy-sign.key" };
	const char *top = getenv("TOP_SRCDIR");
	char *text = NULL;
	struct conf *c, d;
	size_t i, n = 0;
	FILE *f;

	if (top == NULL)
		top = getenv("srcdir");
	f = fopen(fmt("%s/conf/e2mproxyd.conf", top != NULL ? top : "."), "r");
	if (f == NULL || getdelim(&text, &n, '\0', f) < 0) {
		/* make check sets TOP_SRCDIR: there a missing file fails;
		 * only a bare run of the binary skips it. */
		if (getenv("TOP_SRCDIR") != NULL || getenv("srcdir") != NULL)
			T_OK(0, "shipped config: conf/e2mproxyd.conf read");
		else
			T_SKIP("shipped config", "conf/e2mproxyd.conf not "
			    "found (set TOP_SRCDIR)");
		if (f != NULL)
			fclose(f);
		free(text);
		return;
	}
	fclose(f);
	mkdir(fmt("%s/pki", tmpdir), 0700);
	for (i = 0; i < sizeof(pki) / sizeof(pki[0]); i++)
		put_file(pki[i], 0600, "pem\n");
	clear_errors();
	c = conf_load(put_file("e2mproxyd.conf", 0644, text), collect, NULL);
	free(text);
	T_OK(c != NULL && nerrs == 0, "shipped config loads");
	show_errors();
	if (c != NULL) {
		check_shipped_examples(c);
		d = *c;
		d.nown_names = d.ninspect_keys = d.ntrust_anchors = 0;
		d.npolicy_rules = 0;
		d.source_rate = 0;
		d.inspect_keys = NULL;
		d.policy_rules = NULL;
		check_defaults("shipped config", &d);
	}
	conf_free(c);
	for (i = 0; i < sizeof(pki) / sizeof(pki[0]); i++)
		unlink(fmt("%s/%s", tmpdir, pki[i]));
	rmdir(fmt("%s/pki", tmpdir));
}

static void
put_tls_files(void)
{
	put_file("cert.pem", 0644, "certificate\n");
	put_file("key.pem", 0600, "key\n");
	put_file("ca.pem", 0644, "anchors\n");
}

static void
test_full(void)
{
	struct conf *c;

	put_tls_files();
	c = load_ok("every setting", fmt(
	    "log: {\n"
	    "\ttarget = \"syslog\";\n"
	    "\tlevel = \"debug\";\n"
	    "\tfacility = \"local3\";\n"
	    "\tsip_trace = true;\n"
	    "};\n"
	    "sip: {\n"
	    "\tlisten = (\n"
	    "\t\t{ transport = \"udp\"; address = \"::\"; port = 1; },\n"
	    "\t\t{ transport = \"tcp\"; address = \"0.0.0.0\"; },\n"
	    "\t\t{ transport = \"tls\"; address = \"0.0.0.0\"; },\n"
	    "\t\t{ transport = \"tls\"; address = \"::1\"; "
	    "port = 65535; }\n"
	    "\t);\n"
	    "\town_names = [ \"Proxy.Example.COM\", \"192.0.2.1\", "
	    "\"::1\", \"[2001:db8::1]\" ];\n"
	    "\trecord_route = false;\n"
	    "\tmax_forwards = 255;\n"
	    "\ttransaction_timeout = 300000;\n"
	    "\tudp_mtu = 65535;\n"
	    "\tudp_buffer = 67108864;\n"
	    "\tmax_message_size = 4096;\n"
	    "};\n"
	    "tls: {\n"
	    "\tcertificate = \"%s/cert.pem\";\n"
	    "\tkey = \"%s/key.pem\";\n"
	    "\tca_file = \"%s/ca.pem\";\n"
	    "\tverify_server = false;\n"
	    "\tverify_client = true;\n"
	    "};\n"
	    "routing: {\n"
	    "\tdefault_next_hop = \"sip:gw.example.com:5070;transport=tcp\";\n"
	    "\trules = ( { next_hop = \"sips:edge.example.net\"; } );\n"
	    "};\n", tmpdir, tmpdir, tmpdir));
	if (c == NULL)
		return;
	T_EQ_INT(c->log_target, LOG_TO_SYSLOG, "full: log.target");
	T_EQ_INT(c->log_level, LOG_DEBUG, "full: log.level");
	T_EQ_INT(c->log_facility, LOG_LOCAL3, "full: log.facility");
	T_EQ_INT(c->sip_trace, 1, "full: log.sip_trace");
	T_EQ_INT(c->nlisten, 4, "full: four listeners");
	if (c->nlisten == 4) {
		T_EQ_INT(c->listen[0].transport, CONF_TP_UDP, "full: udp");
		T_EQ_STR(c->listen[0].address, "::", "full: v6 any");
		T_EQ_INT(c->listen[0].port, 1, "full: port 1");
		T_EQ_INT(c->listen[1].transport, CONF_TP_TCP, "full: tcp");
		T_EQ_INT(c->listen[1].port, 5060, "full: tcp default port");
		T_EQ_INT(c->listen[2].transport, CONF_TP_TLS, "full: tls");
		T_EQ_INT(c->listen[2].port, 5061, "full: tls default port");
		T_EQ_STR(c->listen[3].address, "::1", "full: v6 address");
		T_EQ_INT(c->listen[3].port, 65535, "full: port 65535");
	}
	T_EQ_INT(c->nown_names, 4, "full: four own_names");
	if (c->nown_names == 4) {
		T_EQ_STR(c->own_names[0], "proxy.example.com",
		    "full: own name lower-cased");
		T_EQ_STR(c->own_names[1], "192.0.2.1", "full: own v4");
		T_EQ_STR(c->own_names[2], "::1", "full: own v6");
		T_EQ_STR(c->own_names[3], "[2001:db8::1]",
		    "full: own bracketed v6");
	}
	T_EQ_INT(c->record_route, 0, "full: record_route");
	T_EQ_INT(c->max_forwards, 255, "full: max_forwards at maximum");
	T_EQ_INT(c->transaction_timeout_ms, 300000,
	    "full: transaction_timeout at maximum");
	T_EQ_INT(c->udp_mtu, 65535, "full: udp_mtu at maximum");
	T_EQ_INT(c->udp_buffer, 67108864, "full: udp_buffer at maximum");
	T_EQ_INT(c->max_message_size, 4096,
	    "full: max_message_size at minimum");
	T_EQ_STR(c->tls_certificate, fmt("%s/cert.pem", tmpdir),
	    "full: tls.certificate");
	T_EQ_STR(c->tls_key, fmt("%s/key.pem", tmpdir), "full: tls.key");
	T_EQ_STR(c->tls_ca_file, fmt("%s/ca.pem", tmpdir), "full: tls.ca_file");
	T_EQ_INT(c->tls_verify_server, 0, "full: tls.verify_server");
	T_EQ_INT(c->tls_verify_client, 1, "full: tls.verify_client");
	T_EQ_STR(c->default_next_hop, "sip:gw.example.com:5070;transport=tcp",
	    "full: default_next_hop");
	T_EQ_INT(c->nroutes, 1, "full: one rule");
	conf_free(c);

	c = load_ok("minimum values",
	    "sip: { max_forwards = 1; transaction_timeout = 1000;\n"
	    "udp_mtu = 500; udp_buffer = 65536; max_message_size = 1048576; "
	    "};\n");
	if (c != NULL) {
		T_EQ_INT(c->max_forwards, 1, "min: max_forwards");
		T_EQ_INT(c->transaction_timeout_ms, 1000,
		    "min: transaction_timeout");
		T_EQ_INT(c->udp_mtu, 500, "min: udp_mtu");
		T_EQ_INT(c->udp_buffer, 65536, "min: udp_buffer");
		T_EQ_INT(c->max_message_size, 1048576,
		    "max: max_message_size");
	}
	conf_free(c);

	c = load_ok("64-bit integer in range", "sip: { udp_mtu = 1400L; };\n");
	if (c != NULL)
		T_EQ_INT(c->udp_mtu, 1400, "64-bit integer value");
	conf_free(c);
}

static void
test_rules(void)
{
	struct conf *c;
	struct conf_route *r;

	c = load_ok("rules",
	    "routing: {\n"
	    "\tdefault_next_hop = \"\";\n"
	    "\trules = (\n"
	    "\t\t{ domain = \"Example.COM\";\n"
	    "\t\t  methods = [ \"invite\", \"MESSAGE\" ];\n"
	    "\t\t  sources = [ \"10.1.0.0/16\", \"::1\" ];\n"
	    "\t\t  next_hop = \"sip:gw.example.com:5070;"
	    "transport=tcp\"; },\n"
	    "\t\t{ domain = \"*.Example.net\";\n"
	    "\t\t  methods = ( \"Options\" );\n"
	    "\t\t  next_hop = \"SIPS:[2001:db8::1]:5061\"; },\n"
	    "\t\t{ next_hop = \"sip:user@192.0.2.7?subject=x\"; }\n"
	    "\t);\n"
	    "};\n");
	if (c == NULL)
		return;
	T_EQ_STR(c->default_next_hop, NULL, "rules: empty default is NULL");
	T_EQ_INT(c->nroutes, 3, "rules: three");
	if (c->nroutes != 3) {
		conf_free(c);
		return;
	}
	r = &c->routes[0];
	T_EQ_INT(r->line, 4, "rule 0: line of its group");
	T_EQ_STR(r->domain, "example.com", "rule 0: domain lower-cased");
	T_EQ_INT(r->nmethods, 2, "rule 0: two methods");
	if (r->nmethods == 2) {
		T_EQ_STR(r->methods[0], "INVITE", "rule 0: method upper-cased");
		T_EQ_STR(r->methods[1], "MESSAGE", "rule 0: second method");
	}
	T_EQ_INT(r->nsources, 2, "rule 0: two sources");
	if (r->nsources == 2) {
		T_EQ_INT(r->sources[0].family, AF_INET, "rule 0: v4 source");
		T_EQ_INT(r->sources[0].prefix, 16, "rule 0: v4 prefix");
		T_EQ_INT(r->sources[1].family, AF_INET6, "rule 0: v6 source");
		T_EQ_INT(r->sources[1].prefix, 128, "rule 0: v6 host");
	}
	T_EQ_STR(r->next_hop, "sip:gw.example.com:5070;transport=tcp",
	    "rule 0: next_hop");
	r = &c->routes[1];
	T_EQ_INT(r->line, 8, "rule 1: line");
	T_EQ_STR(r->domain, "*.example.net", "rule 1: wildcard lower-cased");
	T_EQ_INT(r->nmethods, 1, "rule 1: a list of methods is taken too");
	if (r->nmethods == 1)
		T_EQ_STR(r->methods[0], "OPTIONS", "rule 1: method");
	T_EQ_INT(r->nsources, 0, "rule 1: any source");
	T_OK(r->sources == NULL, "rule 1: no sources array");
	T_EQ_STR(r->next_hop, "SIPS:[2001:db8::1]:5061",
	    "rule 1: next_hop kept as written");
	r = &c->routes[2];
	T_EQ_STR(r->domain, NULL, "rule 2: any domain");
	T_EQ_INT(r->nmethods, 0, "rule 2: any method");
	T_OK(r->methods == NULL, "rule 2: no methods array");
	T_EQ_INT(r->nsources, 0, "rule 2: any source");
	T_EQ_STR(r->next_hop, "sip:user@192.0.2.7?subject=x",
	    "rule 2: next_hop with user and headers");
	conf_free(c);
}

static void
test_syntax(void)
{
	EXPECT("syntax error", "log: {\n\tlevel = ;\n};\n",
	    "2: syntax error");
	EXPECT("duplicate setting", "sip: {\n\tudp_mtu = 1400;\n"
	    "\tudp_mtu = 1500;\n};\n", "3: duplicate setting name");
	EXPECT("mixed array", "sip: {\n\town_names = [ \"a\", 1 ];\n};\n",
	    "2: mismatched element type in array");
}

static void
test_cannot_open(void)
{
	const char *path = fmt("%s/no-such.conf", tmpdir);
	struct conf *c;

	clear_errors();
	c = conf_load(path, collect, NULL);
	T_OK(c == NULL, "missing file: refused");
	check_errors("missing file", path, (const char *const[]){
	    " cannot open: No such file or directory", NULL });

	clear_errors();
	c = conf_load(tmpdir, collect, NULL);
	T_OK(c == NULL, "directory: refused");
	check_errors("directory", tmpdir, (const char *const[]){
	    " cannot open: Is a directory", NULL });
}

static void
test_unknown(void)
{
	EXPECT("unknown settings",
	    "lg: { level = \"debug\"; };\n"
	    "log: { colour = true; };\n"
	    "sip: {\n"
	    "\tlisen = ( );\n"
	    "\tlisten = ( { transport = \"udp\"; address = \"::1\";\n"
	    "\t\tprot = 5062; } );\n"
	    "};\n"
	    "routing: { rules = ( { nxt_hop = \"sip:a\"; "
	    "next_hop = \"sip:b\"; } ); };\n"
	    "port = 5060;\n",
	    "1: unknown setting \"lg\"",
	    "2: unknown setting \"log.colour\"",
	    "4: unknown setting \"sip.lisen\"",
	    "6: unknown setting \"sip.listen[0].prot\"",
	    "8: unknown setting \"routing.rules[0].nxt_hop\"",
	    "9: unknown setting \"port\"");
}

static void
test_types(void)
{
	EXPECT("wrong types",
	    "log: {\n"
	    "\ttarget = 1;\n"
	    "\tsip_trace = \"yes\";\n"
	    "};\n"
	    "sip: {\n"
	    "\tlisten = { transport = \"udp\"; };\n"
	    "\town_names = \"proxy.example.com\";\n"
	    "\tmax_forwards = 70.0;\n"
	    "\tudp_mtu = true;\n"
	    "\tudp_buffer = \"4194304\";\n"
	    "};\n"
	    "tls = [ ];\n"
	    "routing: {\n"
	    "\tdefault_next_hop = [ \"sip:a\" ];\n"
	    "\trules = [ ];\n"
	    "};\n",
	    "2: log.target: expected a string",
	    "3: log.sip_trace: expected a boolean",
	    "6: sip.listen: expected a list of groups",
	    "7: sip.own_names: expected an array of strings",
	    "8: sip.max_forwards: expected an integer",
	    "9: sip.udp_mtu: expected an integer",
	    "10: sip.udp_buffer: expected an integer",
	    "12: tls: expected a group",
	    "14: routing.default_next_hop: expected a string",
	    "15: routing.rules: expected a list of groups");

	EXPECT("wrong types in entries",
	    "sip: { listen = (\n"
	    "\t{ transport = 1; address = 2; port = \"5060\"; },\n"
	    "\t\"udp\" ); };\n"
	    "routing: { rules = (\n"
	    "\t{ domain = 1; methods = [ 1 ]; sources = \"::1\";\n"
	    "\t  next_hop = ( ); },\n"
	    "\t[ \"sip:a\" ] ); };\n",
	    "2: sip.listen[0].transport: expected a string",
	    "2: sip.listen[0].address: expected a string",
	    "2: sip.listen[0].port: expected an integer",
	    "3: sip.listen[1]: expected a group",
	    "5: routing.rules[0].domain: expected a string",
	    "5: routing.rules[0].methods: expected an array of strings",
	    "5: routing.rules[0].sources: expected an array of strings",
	    "6: routing.rules[0].next_hop: expected a string",
	    "7: routing.rules[1]: expected a group");
}

static void
test_ranges(void)
{
	EXPECT("out of range",
	    "sip: {\n"
	    "\tmax_forwards = 0;\n"
	    "\ttransaction_timeout = 999;\n"
	    "\tudp_mtu = 65536;\n"
	    "\tudp_buffer = 65535;\n"
	    "\tmax_message_size = 1048577;\n"
	    "};\n",
	    "2: sip.max_forwards: 0 is out of range [1..255]",
	    "3: sip.transaction_timeout: 999 is out of range [1000..300000]",
	    "4: sip.udp_mtu: 65536 is out of range [500..65535]",
	    "5: sip.udp_buffer: 65535 is out of range [65536..67108864]",
	    "6: sip.max_message_size: 1048577 is out of range "
	    "[4096..1048576]");
	EXPECT("out of range, high and negative",
	    "sip: { max_forwards = 400; udp_mtu = -1; };\n",
	    "1: sip.max_forwards: 400 is out of range [1..255]",
	    "1: sip.udp_mtu: -1 is out of range [500..65535]");
	EXPECT("64-bit out of range",
	    "sip: {\n\tudp_buffer = 5000000000L;\n};\n",
	    "2: sip.udp_buffer: 5000000000 is out of range [65536..67108864]");
	EXPECT("port out of range",
	    "sip: { listen = (\n"
	    "\t{ transport = \"udp\"; address = \"::1\"; port = 0; },\n"
	    "\t{ transport = \"udp\"; address = \"::1\"; port = 65536; }\n"
	    "); };\n",
	    "2: sip.listen[0].port: 0 is out of range [1..65535]",
	    "3: sip.listen[1].port: 65536 is out of range [1..65535]");
}

static void
test_values(void)
{
	EXPECT("bad names",
	    "log: {\n"
	    "\ttarget = \"file\";\n"
	    "\tlevel = \"loud\";\n"
	    "\tfacility = \"kern\";\n"
	    "};\n"
	    "log2: { };\n",
	    "2: log.target: unknown target \"file\"",
	    "3: log.level: unknown level \"loud\"",
	    "4: log.facility: unknown facility \"kern\"",
	    "6: unknown setting \"log2\"");
	EXPECT("levels above error are not offered",
	    "log: { level = \"crit\"; };\n",
	    "1: log.level: unknown level \"crit\"");
	EXPECT("names are case-sensitive",
	    "log: { level = \"INFO\"; };\n",
	    "1: log.level: unknown level \"INFO\"");
	EXPECT("bad listener values",
	    "sip: { listen = (\n"
	    "\t{ transport = \"sctp\"; address = \"127.0.0.1\"; },\n"
	    "\t{ transport = \"udp\"; address = \"localhost\"; },\n"
	    "\t{ transport = \"udp\"; address = \"[::1]\"; },\n"
	    "\t{ transport = \"UDP\"; address = \"1.2.3\"; }\n"
	    "); };\n",
	    "2: sip.listen[0].transport: unknown transport \"sctp\"",
	    "3: sip.listen[1].address: \"localhost\" is not a numeric IPv4 "
	    "or IPv6 address",
	    "4: sip.listen[2].address: \"[::1]\" is not a numeric IPv4 or "
	    "IPv6 address",
	    "5: sip.listen[3].transport: unknown transport \"UDP\"",
	    "5: sip.listen[3].address: \"1.2.3\" is not a numeric IPv4 or "
	    "IPv6 address");
	EXPECT("bad own_names",
	    "sip: { own_names = [\n"
	    "\t\"good.example.com\",\n"
	    "\t\"bad name\",\n"
	    "\t\"\" ]; };\n",
	    "3: sip.own_names: \"bad name\" is not a host name or IP address",
	    "4: sip.own_names: \"\" is not a host name or IP address");
	EXPECT("bad rule values",
	    "routing: {\n"
	    "\tdefault_next_hop = \"gw.example.com\";\n"
	    "\trules = (\n"
	    "\t\t{ domain = \"ex ample.com\";\n"
	    "\t\t  methods = [ \"INVITE\",\n"
	    "\t\t\t\"IN VITE\" ];\n"
	    "\t\t  sources = [ \"10.0.0.0/33\", \"::1\" ];\n"
	    "\t\t  next_hop = \"http://gw\"; },\n"
	    "\t\t{ domain = \"*\"; methods = [ ]; sources = [ ];\n"
	    "\t\t  next_hop = \"sip:\"; },\n"
	    "\t\t{ domain = \"a.*.example.com\"; next_hop = \"sip:gw:0\"; },\n"
	    "\t\t{ domain = \"\"; next_hop = \"sip:gw x\"; },\n"
	    "\t\t{ next_hop = \"sips:[::1\"; },\n"
	    "\t\t{ next_hop = \"sip:gw:5060x\"; },\n"
	    "\t\t{ next_hop = \"\"; }\n"
	    "\t);\n"
	    "};\n",
	    "2: routing.default_next_hop: \"gw.example.com\" is not a sip: "
	    "or sips: URI",
	    "4: routing.rules[0].domain: \"ex ample.com\" is not a domain "
	    "name or \"*.domain\"",
	    "6: routing.rules[0].methods: \"IN VITE\" is not a SIP method "
	    "name",
	    "7: routing.rules[0].sources: \"10.0.0.0/33\" is not an IPv4 or "
	    "IPv6 network",
	    "8: routing.rules[0].next_hop: \"http://gw\" is not a sip: or "
	    "sips: URI",
	    "9: routing.rules[1].domain: \"*\" is not a domain name or "
	    "\"*.domain\"",
	    "9: routing.rules[1].methods: must not be empty; leave it out "
	    "to match any method",
	    "9: routing.rules[1].sources: must not be empty; leave it out "
	    "to match any source",
	    "10: routing.rules[1].next_hop: \"sip:\" is not a sip: or sips: "
	    "URI",
	    "11: routing.rules[2].domain: \"a.*.example.com\" is not a "
	    "domain name or \"*.domain\"",
	    "11: routing.rules[2].next_hop: \"sip:gw:0\" is not a sip: or "
	    "sips: URI",
	    "12: routing.rules[3].domain: \"\" is not a domain name or "
	    "\"*.domain\"",
	    "12: routing.rules[3].next_hop: \"sip:gw x\" is not a sip: or "
	    "sips: URI",
	    "13: routing.rules[4].next_hop: \"sips:[::1\" is not a sip: or "
	    "sips: URI",
	    "14: routing.rules[5].next_hop: \"sip:gw:5060x\" is not a sip: "
	    "or sips: URI",
	    "15: routing.rules[6].next_hop: \"\" is not a sip: or sips: URI");
	EXPECT("rule without next_hop",
	    "routing: {\n"
	    "\trules = (\n"
	    "\t\t{ domain = \"example.com\"; }\n"
	    "\t);\n"
	    "};\n",
	    "3: routing.rules[0]: missing \"next_hop\"");
}

static void
test_listen(void)
{
	struct conf *c;

	EXPECT("empty listen", "sip: {\n\tlisten = ( );\n};\n",
	    "2: sip.listen: must not be empty");
	EXPECT("incomplete listeners",
	    "sip: { listen = (\n"
	    "\t{ address = \"::1\"; },\n"
	    "\t{ transport = \"udp\"; },\n"
	    "\t{ }\n"
	    "); };\n",
	    "2: sip.listen[0]: missing \"transport\"",
	    "3: sip.listen[1]: missing \"address\"",
	    "4: sip.listen[2]: missing \"transport\"",
	    "4: sip.listen[2]: missing \"address\"");
	EXPECT("duplicate listeners",
	    "sip: { listen = (\n"
	    "\t{ transport = \"udp\"; address = \"::1\"; },\n"
	    "\t{ transport = \"udp\"; address = \"0:0::1\"; port = 5060; },\n"
	    "\t{ transport = \"udp\"; address = \"127.0.0.1\"; },\n"
	    "\t{ transport = \"udp\"; address = \"127.0.0.1\"; port = 5060; }\n"
	    "); };\n",
	    "3: sip.listen[1]: duplicate listener udp 0:0::1 port 5060",
	    "5: sip.listen[3]: duplicate listener udp 127.0.0.1 port 5060");

	/* Different ports or families, or udp next to tcp, are fine. */
	c = load_ok("distinct listeners",
	    "sip: { listen = (\n"
	    "\t{ transport = \"udp\"; address = \"127.0.0.1\"; },\n"
	    "\t{ transport = \"tcp\"; address = \"127.0.0.1\"; },\n"
	    "\t{ transport = \"udp\"; address = \"::1\"; },\n"
	    "\t{ transport = \"udp\"; address = \"::ffff:127.0.0.1\"; },\n"
	    "\t{ transport = \"udp\"; address = \"127.0.0.1\"; port = 5070; },\n"
	    "\t{ transport = \"udp\"; address = \"0.0.0.0\"; port = 5080; },\n"
	    "\t{ transport = \"udp\"; address = \"::\"; port = 5080; },\n"
	    "\t{ transport = \"udp\"; address = \"1.2.3.4\"; port = 5080; },\n"
	    "\t{ transport = \"udp\"; address = \"102:304::\"; port = 5080; }\n"
	    "); };\n");
	if (c != NULL)
		T_EQ_INT(c->nlisten, 9, "distinct listeners: all kept");
	conf_free(c);
}

static void
test_tls(void)
{
	const char *key;

	put_tls_files();
	EXPECT("tls listener, no tls group",
	    "sip: { listen = (\n"
	    "\t{ transport = \"udp\"; address = \"::1\"; },\n"
	    "\t{ transport = \"tls\"; address = \"::1\"; }\n"
	    "); };\n",
	    "3: tls.certificate: must be set when there is a tls listener",
	    "3: tls.key: must be set when there is a tls listener",
	    "3: tls.ca_file: must be set when there is a tls listener");
	EXPECT("tls listener, files empty or missing",
	    "sip: { listen = ( { transport = \"tls\"; "
	    "address = \"::1\"; } ); };\n"
	    "tls: {\n"
	    "\tcertificate = \"\";\n"
	    "\tkey = \"\";\n"
	    "};\n",
	    "3: tls.certificate: must be set when there is a tls listener",
	    "4: tls.key: must be set when there is a tls listener",
	    "2: tls.ca_file: must be set when there is a tls listener");
	EXPECT("tls listener, file of the wrong type",
	    "sip: { listen = ( { transport = \"tls\"; "
	    "address = \"::1\"; } ); };\n"
	    "tls: {\n"
	    "\tcertificate = 1;\n"
	    "};\n",
	    "3: tls.certificate: expected a string",
	    "2: tls.key: must be set when there is a tls listener",
	    "2: tls.ca_file: must be set when there is a tls listener");
	EXPECT("tcp and tls on one port",
	    fmt("sip: { listen = (\n"
	    "\t{ transport = \"tcp\"; address = \"::1\"; port = 5061; },\n"
	    "\t{ transport = \"tls\"; address = \"::1\"; }\n"
	    "); };\n"
	    "tls: { certificate = \"%s/cert.pem\"; key = \"%s/key.pem\";\n"
	    "\tca_file = \"%s/ca.pem\"; };\n", tmpdir, tmpdir, tmpdir),
	    "3: sip.listen[1]: tls ::1 port 5061 clashes with tcp on the "
	    "same port");

	/* A typo in a path is caught whether or not TLS is in use. */
	EXPECT("unreadable files without a tls listener",
	    fmt("tls: {\n"
	    "\tcertificate = \"%s/none.pem\";\n"
	    "\tkey = \"%s/nokey.pem\";\n"
	    "\tca_file = \"%s\";\n"
	    "};\n", tmpdir, tmpdir, tmpdir),
	    fmt("2: tls.certificate: cannot read \"%s/none.pem\": No such "
	    "file or directory", tmpdir),
	    fmt("3: tls.key: cannot read \"%s/nokey.pem\": No such file or "
	    "directory", tmpdir),
	    fmt("4: tls.ca_file: \"%s\" is not a regular file", tmpdir));

	key = put_file("key.pem", 0644, "key\n");
	EXPECT("key readable by others",
	    fmt("tls: {\n\tkey = \"%s\";\n};\n", key),
	    fmt("2: tls.key: \"%s\" is accessible by other users (mode 0644); "
	    "chmod 600 it", key));
	chmod(key, 0640);
	EXPECT("key readable by group",
	    fmt("tls: { key = \"%s\"; };\n", key),
	    fmt("1: tls.key: \"%s\" is accessible by other users (mode 0640); "
	    "chmod 600 it", key));
	chmod(key, 0600);
}

/* The per-source datagram budget: burst defaults to twice the rate. */
static void
test_source_budget(void)
{
	struct conf *c;

	c = load_ok("source budget", "sip: { source_rate = 500; "
	    "source_exempt = [ \"10.0.0.0/8\", \"2001:db8::1\" ]; };\n");
	if (c != NULL) {
		T_EQ_INT(c->source_rate, 500, "source_rate");
		T_EQ_INT(c->source_burst, 1000, "source_burst defaults to 2x");
		T_EQ_INT(c->nsource_exempt, 2, "two exempt networks");
	}
	conf_free(c);
	c = load_ok("source burst", "sip: { source_rate = 5; "
	    "source_burst = 7; };\n");
	if (c != NULL)
		T_EQ_INT(c->source_burst, 7, "source_burst set");
	conf_free(c);
	EXPECT("bad source budget",
	    "sip: {\n\tsource_rate = -1;\n\tsource_burst = 0;\n"
	    "\tsource_exempt = [ \"10.0.0.0/33\" ];\n};\n",
	    "2: sip.source_rate: -1 is out of range [0..1000000]",
	    "3: sip.source_burst: 0 is out of range [1..10000000]",
	    "4: sip.source_exempt: \"10.0.0.0/33\" is not an IPv4 or IPv6 "
	    "network");
}

/* Relative names are anchored to the configuration file's directory,
 * not to where the daemon was started (it moves to "/" anyway). */
static void
test_tls_relative(void)
{
	char cwd[1024];
	const char *here = tmpdir;
	struct conf *c;

	put_tls_files();
	if (getcwd(cwd, sizeof(cwd)) == NULL || chdir("/") != 0) {
		T_OK(0, "relative tls paths: cannot change directory");
		return;
	}
	c = load_ok("relative tls paths",
	    "tls: { certificate = \"cert.pem\"; key = \"./key.pem\"; };\n");
	if (c != NULL) {
		T_EQ_STR(c->tls_certificate, fmt("%s/cert.pem", here),
		    "relative certificate made absolute");
		T_EQ_STR(c->tls_key, fmt("%s/./key.pem", here),
		    "relative key made absolute");
	}
	conf_free(c);
	if (chdir(cwd) != 0)
		printf("# cannot go back to %s\n", cwd);
}

static void
put_inspect_files(void)
{
	put_file("proxy.pem", 0644, "certificate\n");
	put_file("proxy.key", 0600, "key\n");
	put_file("old.pem", 0444, "old certificate\n");
	put_file("old.key", 0400, "old key\n");
	put_file("ca1.pem", 0644, "anchor\n");
	put_file("ca2.pem", 0600, "anchor\n");
	put_file("ca.crl", 0644, "crl\n");
}

static void
test_inspect(void)
{
	char cwd[1024];
	const char *here;
	struct conf *c;

	put_inspect_files();
	c = load_ok("inspect group", fmt(
	    "sip: { max_message_size = 1048576; };\n"
	    "inspect: {\n"
	    "\tkeys = (\n"
	    "\t\t{ certificate = \"%s/proxy.pem\"; key = \"%s/proxy.key\"; },\n"
	    "\t\t{ key = \"%s/old.key\"; certificate = \"%s/old.pem\"; }\n"
	    "\t);\n"
	    "\ttrust_anchors = [ \"%s/ca1.pem\", \"%s/ca2.pem\" ];\n"
	    "\tcrl_files = ( \"%s/ca.crl\" );\n"
	    "\tmax_body = 1048576;\n"
	    "\tmax_depth = 64;\n"
	    "\tmax_parts = 1024;\n"
	    "\tworkers = 3;\n"
	    "\tqueue = 100000;\n"
	    "\tretry_after = 3600;\n"
	    "\tcontent_ciphers = [ \"aes-256-gcm\", \"aes-128-cbc\" ];\n"
	    "};\n", tmpdir, tmpdir, tmpdir, tmpdir, tmpdir, tmpdir, tmpdir));
	if (c != NULL) {
		T_EQ_INT(c->ninspect_keys, 2, "inspect: two key pairs");
		if (c->ninspect_keys == 2) {
			T_EQ_STR(c->inspect_keys[0].certificate,
			    fmt("%s/proxy.pem", tmpdir),
			    "inspect: newest cert");
			T_EQ_STR(c->inspect_keys[0].key,
			    fmt("%s/proxy.key", tmpdir), "inspect: newest key");
			T_EQ_STR(c->inspect_keys[1].certificate,
			    fmt("%s/old.pem", tmpdir), "inspect: older cert");
			T_EQ_STR(c->inspect_keys[1].key,
			    fmt("%s/old.key", tmpdir),
			    "inspect: read-only key (0400) is fine");
		}
		T_EQ_INT(c->ntrust_anchors, 2, "inspect: two trust anchors");
		if (c->ntrust_anchors == 2) {
			T_EQ_STR(c->trust_anchors[0], fmt("%s/ca1.pem", tmpdir),
			    "inspect: trust anchor 0");
			T_EQ_STR(c->trust_anchors[1], fmt("%s/ca2.pem", tmpdir),
			    "inspect: trust anchor 1");
		}
		T_EQ_INT(c->ncrl_files, 1, "inspect: one CRL, from a list");
		if (c->ncrl_files == 1)
			T_EQ_STR(c->crl_files[0], fmt("%s/ca.crl", tmpdir),
			    "inspect: CRL file");
		T_EQ_INT(c->max_body, 1048576, "inspect: max_body at maximum");
		T_EQ_INT(c->max_depth, 64, "inspect: max_depth at maximum");
		T_EQ_INT(c->max_parts, 1024, "inspect: max_parts at maximum");
		T_EQ_INT(c->workers, 3, "inspect: workers as given");
		T_EQ_INT(c->queue, 100000, "inspect: queue at maximum");
		T_EQ_INT(c->retry_after, 3600,
		    "inspect: retry_after at maximum");
		T_EQ_INT(c->ncontent_ciphers, 2, "inspect: two ciphers");
		if (c->ncontent_ciphers == 2) {
			T_EQ_STR(c->content_ciphers[0], "aes-256-gcm",
			    "inspect: cipher order kept");
			T_EQ_STR(c->content_ciphers[1], "aes-128-cbc",
			    "inspect: second cipher");
		}
	}
	conf_free(c);

	c = load_ok("inspect minimum values",
	    "inspect: { max_body = 1024; max_depth = 1; max_parts = 1;\n"
	    "workers = 64; queue = 1; retry_after = 1;\n"
	    "keys = ( ); trust_anchors = [ ]; crl_files = [ ]; };\n");
	if (c != NULL) {
		T_EQ_INT(c->max_body, 1024, "inspect min: max_body");
		T_EQ_INT(c->max_depth, 1, "inspect min: max_depth");
		T_EQ_INT(c->max_parts, 1, "inspect min: max_parts");
		T_EQ_INT(c->workers, 64, "inspect: workers at maximum");
		T_EQ_INT(c->queue, 1, "inspect min: queue");
		T_EQ_INT(c->retry_after, 1, "inspect min: retry_after");
		T_EQ_INT(c->ninspect_keys, 0, "inspect: empty keys list");
		T_EQ_INT(c->ntrust_anchors, 0, "inspect: empty trust_anchors");
		T_EQ_INT(c->ncrl_files, 0, "inspect: empty crl_files");
		T_EQ_INT(c->ncontent_ciphers, 6,
		    "inspect: ciphers left out are all six");
	}
	conf_free(c);

	c = load_ok("workers = 0", "inspect: { workers = 0; };\n");
	if (c != NULL)
		T_EQ_INT(c->workers, online_cpus(),
		    "workers = 0 resolved to the online CPUs");
	conf_free(c);

	c = load_ok("max_body equal to max_message_size",
	    "inspect: { max_body = 8192; };\n"
	    "sip: { max_message_size = 8192; };\n");
	if (c != NULL)
		T_EQ_INT(c->max_body, 8192, "max_body = max_message_size");
	conf_free(c);

	/* Not set: the default follows a smaller max_message_size. */
	c = load_ok("default max_body shrinks",
	    "sip: { max_message_size = 4096; };\n");
	if (c != NULL)
		T_EQ_INT(c->max_body, 4096, "default max_body shrunk");
	conf_free(c);

	/* Relative names are anchored like the tls ones. */
	here = tmpdir;
	if (getcwd(cwd, sizeof(cwd)) == NULL || chdir("/") != 0) {
		T_OK(0, "relative inspect paths: cannot change directory");
		return;
	}
	c = load_ok("relative inspect paths",
	    "inspect: {\n"
	    "\tkeys = ( { certificate = \"proxy.pem\"; "
	    "key = \"./proxy.key\"; } );\n"
	    "\ttrust_anchors = [ \"ca1.pem\" ];\n"
	    "\tcrl_files = [ \"ca.crl\" ];\n"
	    "};\n");
	if (c != NULL && c->ninspect_keys == 1 && c->ntrust_anchors == 1 &&
	    c->ncrl_files == 1) {
		T_EQ_STR(c->inspect_keys[0].certificate,
		    fmt("%s/proxy.pem", here), "relative keys certificate");
		T_EQ_STR(c->inspect_keys[0].key, fmt("%s/./proxy.key", here),
		    "relative keys key");
		T_EQ_STR(c->trust_anchors[0], fmt("%s/ca1.pem", here),
		    "relative trust anchor");
		T_EQ_STR(c->crl_files[0], fmt("%s/ca.crl", here),
		    "relative CRL file");
	} else
		T_OK(0, "relative inspect paths: one of each");
	conf_free(c);
	if (chdir(cwd) != 0)
		printf("# cannot go back to %s\n", cwd);
}

static void
test_inspect_errors(void)
{
	const char *key;

	put_inspect_files();
	EXPECT("inspect key pairs incomplete",
	    fmt("inspect: { keys = (\n"
	    "\t{ certificate = \"%s/proxy.pem\"; },\n"
	    "\t{ key = \"%s/proxy.key\"; },\n"
	    "\t{ },\n"
	    "\t{ certificate = \"\"; key = \"\"; }\n"
	    "); };\n", tmpdir, tmpdir),
	    "2: inspect.keys[0]: missing \"key\"",
	    "3: inspect.keys[1]: missing \"certificate\"",
	    "4: inspect.keys[2]: missing \"certificate\"",
	    "4: inspect.keys[2]: missing \"key\"",
	    "5: inspect.keys[3].certificate: must not be empty",
	    "5: inspect.keys[3].key: must not be empty");
	EXPECT("inspect files unreadable",
	    fmt("inspect: {\n"
	    "\tkeys = ( { certificate = \"%s/none.pem\";\n"
	    "\t\tkey = \"%s/none.key\"; },\n"
	    "\t\t{ certificate = \"%s\"; key = \"%s\"; } );\n"
	    "\ttrust_anchors = [ \"%s/ca1.pem\",\n"
	    "\t\t\"%s/none-ca.pem\", \"%s\" ];\n"
	    "\tcrl_files = [ \"%s/none.crl\" ];\n"
	    "};\n", tmpdir, tmpdir, tmpdir, tmpdir, tmpdir, tmpdir, tmpdir,
	    tmpdir),
	    fmt("2: inspect.keys[0].certificate: cannot read \"%s/none.pem\": "
	    "No such file or directory", tmpdir),
	    fmt("3: inspect.keys[0].key: cannot read \"%s/none.key\": No "
	    "such file or directory", tmpdir),
	    fmt("4: inspect.keys[1].certificate: \"%s\" is not a regular "
	    "file", tmpdir),
	    fmt("4: inspect.keys[1].key: \"%s\" is not a regular file",
	    tmpdir),
	    fmt("6: inspect.trust_anchors: cannot read \"%s/none-ca.pem\": "
	    "No such file or directory", tmpdir),
	    fmt("6: inspect.trust_anchors: \"%s\" is not a regular file",
	    tmpdir),
	    fmt("7: inspect.crl_files: cannot read \"%s/none.crl\": No such "
	    "file or directory", tmpdir));

	key = put_file("open.key", 0644, "key\n");
	EXPECT("inspect key readable by others",
	    fmt("inspect: { keys = (\n"
	    "\t{ certificate = \"%s/proxy.pem\"; key = \"%s/proxy.key\"; },\n"
	    "\t{ certificate = \"%s/old.pem\"; key = \"%s\"; }\n"
	    "); };\n", tmpdir, tmpdir, tmpdir, key),
	    fmt("3: inspect.keys[1].key: \"%s\" is accessible by other users "
	    "(mode 0644); chmod 600 it", key));
	chmod(key, 0640);
	EXPECT("inspect key readable by group",
	    fmt("inspect: { keys = ( { certificate = \"%s/proxy.pem\";\n"
	    "\tkey = \"%s\"; } ); };\n", tmpdir, key),
	    fmt("2: inspect.keys[0].key: \"%s\" is accessible by other users "
	    "(mode 0640); chmod 600 it", key));
	chmod(key, 0602);
	EXPECT("inspect key writable by others",
	    fmt("inspect: { keys = ( { certificate = \"%s/proxy.pem\";\n"
	    "\tkey = \"%s\"; } ); };\n", tmpdir, key),
	    fmt("2: inspect.keys[0].key: \"%s\" is accessible by other users "
	    "(mode 0602); chmod 600 it", key));
	chmod(key, 0600);

	EXPECT("inspect ciphers",
	    "inspect: { content_ciphers = [\n"
	    "\t\"aes-128-gcm\",\n"
	    "\t\"des-cbc\",\n"
	    "\t\"AES-256-CBC\",\n"
	    "\t\"aes-128-gcm\" ]; };\n",
	    "3: inspect.content_ciphers: unknown cipher \"des-cbc\"",
	    "4: inspect.content_ciphers: unknown cipher \"AES-256-CBC\"",
	    "5: inspect.content_ciphers: duplicate cipher \"aes-128-gcm\"");
	EXPECT("inspect ciphers empty",
	    "inspect: {\n\tcontent_ciphers = [ ];\n};\n",
	    "2: inspect.content_ciphers: must not be empty; leave it out to "
	    "accept all six");

	EXPECT("inspect out of range",
	    "inspect: {\n"
	    "\tmax_body = 1023;\n"
	    "\tmax_depth = 0;\n"
	    "\tmax_parts = 1025;\n"
	    "\tworkers = -1;\n"
	    "\tqueue = 0;\n"
	    "\tretry_after = 3601;\n"
	    "};\n",
	    "2: inspect.max_body: 1023 is out of range [1024..1048576]",
	    "3: inspect.max_depth: 0 is out of range [1..64]",
	    "4: inspect.max_parts: 1025 is out of range [1..1024]",
	    "5: inspect.workers: -1 is out of range [0..64]",
	    "6: inspect.queue: 0 is out of range [1..100000]",
	    "7: inspect.retry_after: 3601 is out of range [1..3600]");
	EXPECT("inspect out of range, high",
	    "inspect: { max_body = 1048577; max_depth = 65; max_parts = 0;\n"
	    "workers = 65; queue = 100001; retry_after = 0; };\n",
	    "1: inspect.max_body: 1048577 is out of range [1024..1048576]",
	    "1: inspect.max_depth: 65 is out of range [1..64]",
	    "1: inspect.max_parts: 0 is out of range [1..1024]",
	    "2: inspect.workers: 65 is out of range [0..64]",
	    "2: inspect.queue: 100001 is out of range [1..100000]",
	    "2: inspect.retry_after: 0 is out of range [1..3600]");

	EXPECT("max_body over max_message_size",
	    "sip: { max_message_size = 4096; };\n"
	    "inspect: {\n"
	    "\tmax_body = 4097;\n"
	    "};\n",
	    "3: inspect.max_body: 4097 exceeds sip.max_message_size (4096)");
	EXPECT("max_body over max_message_size, inspect first",
	    "inspect: { max_body = 65537; };\n",
	    "1: inspect.max_body: 65537 exceeds sip.max_message_size (65536)");
	/* One mistake, one message: a refused value is not compared. */
	EXPECT("max_message_size refused, max_body not compared",
	    "sip: { max_message_size = 100; };\n"
	    "inspect: { max_body = 100000; };\n",
	    "1: sip.max_message_size: 100 is out of range [4096..1048576]");

	EXPECT("inspect unknown settings",
	    fmt("inspect: {\n"
	    "\tmax_bodies = 1;\n"
	    "\tkeys = ( { certificate = \"%s/proxy.pem\";\n"
	    "\t\tkey = \"%s/proxy.key\"; passphrase = \"x\"; } );\n"
	    "};\n", tmpdir, tmpdir),
	    "2: unknown setting \"inspect.max_bodies\"",
	    "4: unknown setting \"inspect.keys[0].passphrase\"");

	EXPECT("inspect wrong types",
	    "inspect: {\n"
	    "\tkeys = { certificate = \"a\"; key = \"b\"; };\n"
	    "\ttrust_anchors = \"ca.pem\";\n"
	    "\tcrl_files = [ 1 ];\n"
	    "\tmax_body = \"65536\";\n"
	    "\tworkers = 1.5;\n"
	    "\tcontent_ciphers = \"aes-128-cbc\";\n"
	    "};\n"
	    "inspect2 = 1;\n",
	    "2: inspect.keys: expected a list of groups",
	    "3: inspect.trust_anchors: expected an array of strings",
	    "4: inspect.crl_files: expected an array of strings",
	    "5: inspect.max_body: expected an integer",
	    "6: inspect.workers: expected an integer",
	    "7: inspect.content_ciphers: expected an array of strings",
	    "9: unknown setting \"inspect2\"");
	EXPECT("inspect not a group", "inspect = [ ];\n",
	    "1: inspect: expected a group");
	EXPECT("inspect wrong types in entries",
	    "inspect: { keys = (\n"
	    "\t{ certificate = 1; key = [ \"k\" ]; },\n"
	    "\t\"cert.pem\" ); };\n",
	    "2: inspect.keys[0].certificate: expected a string",
	    "2: inspect.keys[0].key: expected a string",
	    "3: inspect.keys[1]: expected a group");
}

static void
test_many_errors(void)
{
	EXPECT("all errors in one pass",
	    "log: {\n"
	    "\tlevel = \"loud\";\n"
	    "\ttarget = \"stdout\";\n"
	    "};\n"
	    "sip: {\n"
	    "\tlisen = ( );\n"
	    "\tmax_forwards = 400;\n"
	    "\tlisten = (\n"
	    "\t\t{ transport = \"udp\"; address = \"127.0.0.1\"; },\n"
	    "\t\t{ transport = \"udp\"; address = \"127.0.0.1\"; },\n"
	    "\t\t{ transport = \"tls\"; address = \"127.0.0.1\"; }\n"
	    "\t);\n"
	    "};\n"
	    "routing: {\n"
	    "\trules = ( { methods = [ \"IN VITE\" ]; } );\n"
	    "};\n",
	    "2: log.level: unknown level \"loud\"",
	    "3: log.target: unknown target \"stdout\"",
	    "6: unknown setting \"sip.lisen\"",
	    "7: sip.max_forwards: 400 is out of range [1..255]",
	    "10: sip.listen[1]: duplicate listener udp 127.0.0.1 port 5060",
	    "15: routing.rules[0].methods: \"IN VITE\" is not a SIP method "
	    "name",
	    "15: routing.rules[0]: missing \"next_hop\"",
	    "11: tls.certificate: must be set when there is a tls listener",
	    "11: tls.key: must be set when there is a tls listener",
	    "11: tls.ca_file: must be set when there is a tls listener");

	put_inspect_files();
	EXPECT("inspect errors in one pass with the rest",
	    fmt("log: { level = \"loud\"; };\n"
	    "inspect: {\n"
	    "\tmax_body = 70000;\n"
	    "\tworkers = 100;\n"
	    "\tkeys = (\n"
	    "\t\t{ certificate = \"%s/proxy.pem\"; },\n"
	    "\t\t{ certificate = \"%s/none.pem\"; key = \"%s/ca1.pem\"; }\n"
	    "\t);\n"
	    "\ttrust_anchors = [ \"%s/none-ca.pem\" ];\n"
	    "\tcontent_ciphers = [ \"des-cbc\", \"aes-128-cbc\", "
	    "\"aes-128-cbc\" ];\n"
	    "\tcolour = true;\n"
	    "};\n"
	    "sip: { udp_mtu = 1; };\n", tmpdir, tmpdir, tmpdir, tmpdir),
	    "1: log.level: unknown level \"loud\"",
	    "4: inspect.workers: 100 is out of range [0..64]",
	    "6: inspect.keys[0]: missing \"key\"",
	    fmt("7: inspect.keys[1].certificate: cannot read "
	    "\"%s/none.pem\": No such file or directory", tmpdir),
	    fmt("7: inspect.keys[1].key: \"%s/ca1.pem\" is accessible by "
	    "other users (mode 0644); chmod 600 it", tmpdir),
	    fmt("9: inspect.trust_anchors: cannot read \"%s/none-ca.pem\": "
	    "No such file or directory", tmpdir),
	    "10: inspect.content_ciphers: unknown cipher \"des-cbc\"",
	    "10: inspect.content_ciphers: duplicate cipher \"aes-128-cbc\"",
	    "11: unknown setting \"inspect.colour\"",
	    "13: sip.udp_mtu: 1 is out of range [500..65535]",
	    "3: inspect.max_body: 70000 exceeds sip.max_message_size (65536)");
}

/* A rule that sets nothing is exactly policy_rule_defaults(). */
static void
check_policy_defaults(const char *name, const struct policy_rule *r,
    unsigned line)
{
	struct policy_rule d;

	policy_rule_defaults(&d, line);
	T_EQ_INT(r->line, line, fmt("%s: line", name));
	T_EQ_INT(r->nmethods, 0, fmt("%s: any method", name));
	T_OK(r->methods == NULL, fmt("%s: no methods array", name));
	T_EQ_INT(r->nruri_domains, 0, fmt("%s: any domain", name));
	T_EQ_INT(r->nfrom_users, 0, fmt("%s: any from user", name));
	T_EQ_INT(r->nfrom_domains, 0, fmt("%s: any from domain", name));
	T_EQ_INT(r->nsources, 0, fmt("%s: any source", name));
	T_OK(r->sources == NULL, fmt("%s: no sources array", name));
	T_EQ_INT(r->transports, 0, fmt("%s: any transport", name));
	T_EQ_INT(r->nprmb_types, 0, fmt("%s: no PRMB", name));
	T_EQ_INT(r->active, d.active, fmt("%s: active", name));
	T_EQ_INT(r->active, 1, fmt("%s: active is on", name));
	T_EQ_INT(r->require_whole_body, d.require_whole_body,
	    fmt("%s: require_whole_body", name));
	T_EQ_INT(r->require_integrity, d.require_integrity,
	    fmt("%s: require_integrity", name));
	T_EQ_INT(r->require_inner_signature, d.require_inner_signature,
	    fmt("%s: require_inner_signature", name));
	T_EQ_INT(r->reject_on_labelled_failure, d.reject_on_labelled_failure,
	    fmt("%s: reject_on_labelled_failure", name));
	T_EQ_INT(r->open_unlabelled, d.open_unlabelled,
	    fmt("%s: open_unlabelled", name));
	T_EQ_INT(r->on_missing_prmb, d.on_missing_prmb,
	    fmt("%s: on_missing_prmb", name));
	T_EQ_INT(r->on_bad_signature, d.on_bad_signature,
	    fmt("%s: on_bad_signature", name));
	T_EQ_INT(r->on_undecipherable_in_dialog, d.on_undecipherable_in_dialog,
	    fmt("%s: on_undecipherable_in_dialog", name));
}

static void
test_policy_defaults(void)
{
	struct conf *c;

	c = load_ok("empty policy rules", "policy: { rules = ( ); };\n");
	if (c != NULL) {
		T_EQ_INT(c->npolicy_rules, 0, "empty policy rules: none");
		T_OK(c->policy_rules == NULL, "empty policy rules: NULL");
	}
	conf_free(c);

	c = load_ok("empty policy rule",
	    "policy: {\n"
	    "\trules = (\n"
	    "\t\t{ },\n"
	    "\t\t{\n"
	    "\t\t}\n"
	    "\t);\n"
	    "};\n");
	if (c == NULL)
		return;
	T_EQ_INT(c->npolicy_rules, 2, "empty policy rule: two rules");
	if (c->npolicy_rules == 2) {
		check_policy_defaults("empty rule 0", &c->policy_rules[0], 3);
		check_policy_defaults("empty rule 1", &c->policy_rules[1], 4);
	}
	conf_free(c);
}

static void
test_policy_full(void)
{
	const struct policy_rule *r;
	struct conf *c;

	c = load_ok("policy rules",
	    "policy: {\n"
	    "\trules = (\n"
	    "\t\t{ methods = [ \"INVITE\" ];\n"
	    "\t\t  domains = [ \"Example.com\", \"*.example.COM\" ];\n"
	    "\t\t  from_users = [ \"alice\", \"Bob\" ];\n"
	    "\t\t  from_domains = [ \"Atlanta.example.com\" ];\n"
	    "\t\t  sources = [ \"10.0.0.0/8\", \"2001:db8::/32\" ];\n"
	    "\t\t  transports = [ \"udp\", \"tls\" ];\n"
	    "\t\t  active = true;\n"
	    "\t\t  required_types = [ \"Application/SDP\", "
	    "\"text/plain\" ];\n"
	    "\t\t  require_whole_body = false;\n"
	    "\t\t  require_integrity = false;\n"
	    "\t\t  require_inner_signature = true;\n"
	    "\t\t  reject_on_labelled_failure = true;\n"
	    "\t\t  open_unlabelled = true;\n"
	    "\t\t  on_missing_prmb = \"403\";\n"
	    "\t\t  on_bad_signature = \"403\";\n"
	    "\t\t  on_undecipherable_in_dialog = \"log\"\n"
	    "\t\t},\n"
	    "\t\t{ methods = ( \"message\", \"OPTIONS\" );\n"
	    "\t\t  transports = [ \"tcp\" ]; from_domains = [ \"*.b.org\" ];\n"
	    "\t\t  active = false; required_types = [ ];\n"
	    "\t\t  require_whole_body = true; require_integrity = true;\n"
	    "\t\t  require_inner_signature = false;\n"
	    "\t\t  reject_on_labelled_failure = false;\n"
	    "\t\t  open_unlabelled = false;\n"
	    "\t\t  on_missing_prmb = \"forward\";\n"
	    "\t\t  on_bad_signature = \"forward-and-log\";\n"
	    "\t\t  on_undecipherable_in_dialog = \"terminate\"; }\n"
	    "\t);\n"
	    "};\n");
	if (c == NULL)
		return;
	T_EQ_INT(c->npolicy_rules, 2, "policy rules: two");
	if (c->npolicy_rules != 2) {
		conf_free(c);
		return;
	}
	r = &c->policy_rules[0];
	T_EQ_INT(r->line, 3, "policy 0: line of its group");
	T_EQ_INT(r->nmethods, 1, "policy 0: one method");
	if (r->nmethods == 1)
		T_EQ_STR(r->methods[0], "INVITE", "policy 0: method");
	T_EQ_INT(r->nruri_domains, 2, "policy 0: two domains");
	if (r->nruri_domains == 2) {
		T_EQ_STR(r->ruri_domains[0], "example.com",
		    "policy 0: domain lower-cased");
		T_EQ_STR(r->ruri_domains[1], "*.example.com",
		    "policy 0: wildcard lower-cased");
	}
	T_EQ_INT(r->nfrom_users, 2, "policy 0: two users");
	if (r->nfrom_users == 2) {
		T_EQ_STR(r->from_users[0], "alice", "policy 0: user");
		T_EQ_STR(r->from_users[1], "Bob", "policy 0: user as written");
	}
	T_EQ_INT(r->nfrom_domains, 1, "policy 0: one from domain");
	if (r->nfrom_domains == 1)
		T_EQ_STR(r->from_domains[0], "atlanta.example.com",
		    "policy 0: from domain lower-cased");
	T_EQ_INT(r->nsources, 2, "policy 0: two sources");
	if (r->nsources == 2) {
		T_EQ_INT(r->sources[0].family, AF_INET, "policy 0: v4 source");
		T_EQ_INT(r->sources[0].prefix, 8, "policy 0: v4 prefix");
		T_EQ_INT(r->sources[1].family, AF_INET6, "policy 0: v6 source");
		T_EQ_INT(r->sources[1].prefix, 32, "policy 0: v6 prefix");
	}
	T_EQ_INT(r->transports, POLICY_TP_UDP | POLICY_TP_TLS,
	    "policy 0: udp and tls");
	T_EQ_INT(r->active, 1, "policy 0: active");
	T_EQ_INT(r->nprmb_types, 2, "policy 0: two PRMB types");
	if (r->nprmb_types == 2) {
		T_EQ_STR(r->prmb_types[0], "application/sdp",
		    "policy 0: type lower-cased");
		T_EQ_STR(r->prmb_types[1], "text/plain", "policy 0: type");
	}
	T_EQ_INT(r->require_whole_body, 0, "policy 0: require_whole_body");
	T_EQ_INT(r->require_integrity, 0, "policy 0: require_integrity");
	T_EQ_INT(r->require_inner_signature, 1,
	    "policy 0: require_inner_signature");
	T_EQ_INT(r->reject_on_labelled_failure, 1,
	    "policy 0: reject_on_labelled_failure");
	T_EQ_INT(r->open_unlabelled, 1, "policy 0: open_unlabelled");
	T_EQ_INT(r->on_missing_prmb, POLICY_MISSING_REJECT403,
	    "policy 0: on_missing_prmb 403");
	T_EQ_INT(r->on_bad_signature, POLICY_BADSIG_REJECT403,
	    "policy 0: on_bad_signature 403");
	T_EQ_INT(r->on_undecipherable_in_dialog, POLICY_INDIALOG_LOG,
	    "policy 0: on_undecipherable_in_dialog log");

	r = &c->policy_rules[1];
	T_EQ_INT(r->line, 20, "policy 1: line");
	T_EQ_INT(r->nmethods, 2, "policy 1: a list of methods is taken too");
	if (r->nmethods == 2) {
		T_EQ_STR(r->methods[0], "MESSAGE", "policy 1: upper-cased");
		T_EQ_STR(r->methods[1], "OPTIONS", "policy 1: second method");
	}
	T_EQ_INT(r->nruri_domains, 0, "policy 1: any domain");
	T_EQ_INT(r->nfrom_domains, 1, "policy 1: from domain wildcard");
	if (r->nfrom_domains == 1)
		T_EQ_STR(r->from_domains[0], "*.b.org", "policy 1: from domain");
	T_EQ_INT(r->transports, POLICY_TP_TCP, "policy 1: tcp");
	T_EQ_INT(r->active, 0, "policy 1: inactive");
	T_EQ_INT(r->nprmb_types, 0, "policy 1: empty types: none");
	T_EQ_INT(r->require_whole_body, 1, "policy 1: require_whole_body");
	T_EQ_INT(r->require_integrity, 1, "policy 1: require_integrity");
	T_EQ_INT(r->require_inner_signature, 0,
	    "policy 1: require_inner_signature off");
	T_EQ_INT(r->reject_on_labelled_failure, 0,
	    "policy 1: reject_on_labelled_failure off");
	T_EQ_INT(r->open_unlabelled, 0, "policy 1: open_unlabelled off");
	T_EQ_INT(r->on_missing_prmb, POLICY_MISSING_FORWARD,
	    "policy 1: on_missing_prmb forward");
	T_EQ_INT(r->on_bad_signature, POLICY_BADSIG_FORWARD_AND_LOG,
	    "policy 1: on_bad_signature forward-and-log");
	T_EQ_INT(r->on_undecipherable_in_dialog, POLICY_INDIALOG_TERMINATE,
	    "policy 1: on_undecipherable_in_dialog terminate");
	conf_free(c);
}

static void
test_policy_errors(void)
{
	char many[1024];
	size_t i;

	EXPECT("policy not a group", "policy = 1;\n",
	    "1: policy: expected a group");
	EXPECT("policy.rules not a list",
	    "policy: { rules = [ \"INVITE\" ]; };\n",
	    "1: policy.rules: expected a list of groups");
	EXPECT("policy rule not a group",
	    "policy: { rules = ( { }, \"INVITE\" ); };\n",
	    "1: policy.rules[1]: expected a group");
	EXPECT("policy unknown keys",
	    "policy: {\n\tdefault = \"forward\";\n"
	    "\trules = ( { colour = 1; } );\n};\n",
	    "2: unknown setting \"policy.default\"",
	    "3: unknown setting \"policy.rules[0].colour\"");
	EXPECT("policy method",
	    "policy: { rules = ( { methods = [ \"IN VITE\" ]; } ); };\n",
	    "1: policy.rules[0].methods: \"IN VITE\" is not a SIP method name");
	EXPECT("policy methods not an array",
	    "policy: { rules = ( { methods = \"INVITE\"; } ); };\n",
	    "1: policy.rules[0].methods: expected an array of strings");
	EXPECT("policy domains",
	    "policy: { rules = ( { domains = [ \"exa mple.com\", \"*\", "
	    "\"*.\" ]; } ); };\n",
	    "1: policy.rules[0].domains: \"exa mple.com\" is not a domain "
	    "name or \"*.domain\"",
	    "1: policy.rules[0].domains: \"*\" is not a domain name or "
	    "\"*.domain\"",
	    "1: policy.rules[0].domains: \"*.\" is not a domain name or "
	    "\"*.domain\"");
	EXPECT("policy from_users",
	    "policy: { rules = ( { from_users = [ \"alice@a.org\", \"\", "
	    "\"a b\" ]; } ); };\n",
	    "1: policy.rules[0].from_users: \"alice@a.org\" is not a user "
	    "name (a token, no \"@\")",
	    "1: policy.rules[0].from_users: \"\" is not a user name (a token, "
	    "no \"@\")",
	    "1: policy.rules[0].from_users: \"a b\" is not a user name (a "
	    "token, no \"@\")");
	EXPECT("policy from_domains",
	    "policy: { rules = ( { from_domains = [ \"a/b\" ]; } ); };\n",
	    "1: policy.rules[0].from_domains: \"a/b\" is not a domain name "
	    "or \"*.domain\"");
	EXPECT("policy sources",
	    "policy: { rules = ( { sources = [ \"10.0.0.0/33\", \"x\" ]; } ); "
	    "};\n",
	    "1: policy.rules[0].sources: \"10.0.0.0/33\" is not an IPv4 or "
	    "IPv6 network",
	    "1: policy.rules[0].sources: \"x\" is not an IPv4 or IPv6 "
	    "network");
	EXPECT("policy transports",
	    "policy: { rules = ( { transports = [ \"sctp\", \"TCP\" ]; } ); "
	    "};\n",
	    "1: policy.rules[0].transports: unknown transport \"sctp\"",
	    "1: policy.rules[0].transports: unknown transport \"TCP\"");
	EXPECT("policy empty criteria",
	    "policy: { rules = ( {\n"
	    "\tmethods = [ ]; domains = [ ]; from_users = [ ];\n"
	    "\tfrom_domains = [ ]; sources = [ ]; transports = [ ];\n"
	    "} ); };\n",
	    "2: policy.rules[0].methods: must not be empty; leave it out to "
	    "match any method",
	    "2: policy.rules[0].domains: must not be empty; leave it out to "
	    "match any domain",
	    "2: policy.rules[0].from_users: must not be empty; leave it out "
	    "to match any user",
	    "3: policy.rules[0].from_domains: must not be empty; leave it "
	    "out to match any domain",
	    "3: policy.rules[0].sources: must not be empty; leave it out to "
	    "match any source",
	    "3: policy.rules[0].transports: must not be empty; leave it out "
	    "to match any transport");
	EXPECT("policy required_types",
	    "policy: { rules = ( { required_types = [ \"sdp\", \"/sdp\", "
	    "\"application/\", \"a/b/c\", \"text/plain\", \"Text/Plain\" ]; "
	    "} ); };\n",
	    "1: policy.rules[0].required_types: \"sdp\" is not a type/subtype",
	    "1: policy.rules[0].required_types: \"/sdp\" is not a "
	    "type/subtype",
	    "1: policy.rules[0].required_types: \"application/\" is not a "
	    "type/subtype",
	    "1: policy.rules[0].required_types: \"a/b/c\" is not a "
	    "type/subtype",
	    "1: policy.rules[0].required_types: duplicate type "
	    "\"text/plain\"");
	snprintf(many, sizeof(many), "policy: { rules = ( { required_types "
	    "= [ \"a/t0\"");
	for (i = 1; i <= POLICY_MAX_PRMB; i++)
		snprintf(many + strlen(many), sizeof(many) - strlen(many),
		    ", \"a/t%zu\"", i);
	strcat(many, " ]; } ); };\n");
	EXPECT("policy too many types", many,
	    "1: policy.rules[0].required_types: 17 types, at most 16");
	EXPECT("policy booleans",
	    "policy: { rules = ( { active = \"yes\"; require_whole_body = 1; "
	    "require_integrity = \"true\"; require_inner_signature = 0; "
	    "reject_on_labelled_failure = 1; open_unlabelled = \"no\"; } ); "
	    "};\n",
	    "1: policy.rules[0].active: expected a boolean",
	    "1: policy.rules[0].require_whole_body: expected a boolean",
	    "1: policy.rules[0].require_integrity: expected a boolean",
	    "1: policy.rules[0].require_inner_signature: expected a boolean",
	    "1: policy.rules[0].reject_on_labelled_failure: expected a "
	    "boolean",
	    "1: policy.rules[0].open_unlabelled: expected a boolean");
	EXPECT("policy enums",
	    "policy: { rules = ( {\n"
	    "\ton_missing_prmb = \"maybe\";\n"
	    "\ton_bad_signature = \"forward\";\n"
	    "\ton_undecipherable_in_dialog = \"Log\";\n"
	    "}, {\n"
	    "\ton_missing_prmb = 403;\n"
	    "\ton_bad_signature = \"403 \";\n"
	    "\ton_undecipherable_in_dialog = \"\";\n"
	    "} ); };\n",
	    "2: policy.rules[0].on_missing_prmb: unknown value \"maybe\"",
	    "3: policy.rules[0].on_bad_signature: unknown value \"forward\"",
	    "4: policy.rules[0].on_undecipherable_in_dialog: unknown value "
	    "\"Log\"",
	    "6: policy.rules[1].on_missing_prmb: expected a string",
	    "7: policy.rules[1].on_bad_signature: unknown value \"403 \"",
	    "8: policy.rules[1].on_undecipherable_in_dialog: unknown value "
	    "\"\"");
	EXPECT("policy errors in one pass with the rest",
	    "log: { level = \"loud\"; };\n"
	    "policy: {\n"
	    "\trules = (\n"
	    "\t\t{ methods = [ \"IN VITE\" ]; transports = [ \"udp\" ]; },\n"
	    "\t\t{ domains = [ \"example.com\" ];\n"
	    "\t\t  on_missing_prmb = \"maybe\"; },\n"
	    "\t\t{ required_types = [ \"sdp\" ]; active = 1; }\n"
	    "\t);\n"
	    "};\n"
	    "sip: { udp_mtu = 1; };\n",
	    "1: log.level: unknown level \"loud\"",
	    "4: policy.rules[0].methods: \"IN VITE\" is not a SIP method name",
	    "6: policy.rules[1].on_missing_prmb: unknown value \"maybe\"",
	    "7: policy.rules[2].required_types: \"sdp\" is not a type/subtype",
	    "7: policy.rules[2].active: expected a boolean",
	    "10: sip.udp_mtu: 1 is out of range [500..65535]");
}

/* The loaded rules go to the engine as they are. */
static void
test_policy_match(void)
{
	struct sockaddr_in sin;
	struct policy_facts f;
	const struct policy_rule *m;
	struct policy p;
	struct conf *c;

	c = load_ok("policy for the engine",
	    "policy: {\n"
	    "\trules = (\n"
	    "\t\t{ methods = [ \"invite\" ]; domains = [ \"*.Example.com\" ];\n"
	    "\t\t  from_users = [ \"alice\" ];\n"
	    "\t\t  from_domains = [ \"atlanta.example.com\" ];\n"
	    "\t\t  sources = [ \"10.0.0.0/8\" ];\n"
	    "\t\t  transports = [ \"udp\", \"tls\" ];\n"
	    "\t\t  required_types = [ \"Application/SDP\" ]; },\n"
	    "\t\t{ transports = [ \"tcp\" ]; active = false; },\n"
	    "\t\t{ }\n"
	    "\t);\n"
	    "};\n");
	if (c == NULL)
		return;
	p.rules = c->policy_rules;
	p.nrules = c->npolicy_rules;

	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons(5060);
	inet_pton(AF_INET, "10.1.2.3", &sin.sin_addr);
	memset(&f, 0, sizeof(f));
	f.method = "INVITE";
	f.ruri_domain = "sip.EXAMPLE.com";
	f.from_user = "alice";
	f.from_domain = "atlanta.example.com";
	f.source = (const struct sockaddr *)&sin;
	f.transport = POLICY_TP_TLS;

	m = policy_match(&p, &f);
	T_OK(m == &c->policy_rules[0], "engine: all criteria match rule 0");
	if (m != NULL)
		T_EQ_INT(m->line, 3, "engine: rule 0 line");

	f.transport = POLICY_TP_TCP;
	m = policy_match(&p, &f);
	T_OK(m == &c->policy_rules[1], "engine: tcp falls to rule 1");
	if (m != NULL) {
		T_EQ_INT(m->line, 9, "engine: rule 1 line");
		T_EQ_INT(m->active, 0, "engine: rule 1 inactive");
	}

	f.transport = POLICY_TP_UDP;
	inet_pton(AF_INET, "192.0.2.1", &sin.sin_addr);
	m = policy_match(&p, &f);
	T_OK(m == &c->policy_rules[2], "engine: other source: catch-all");

	inet_pton(AF_INET, "10.1.2.3", &sin.sin_addr);
	f.method = "MESSAGE";
	m = policy_match(&p, &f);
	T_OK(m == &c->policy_rules[2], "engine: other method: catch-all");
	f.method = "INVITE";
	f.from_user = "bob";
	m = policy_match(&p, &f);
	T_OK(m == &c->policy_rules[2], "engine: other user: catch-all");
	f.from_user = "alice";
	f.ruri_domain = "example.com";
	m = policy_match(&p, &f);
	T_OK(m == &c->policy_rules[2],
	    "engine: wildcard does not match the domain itself");
	conf_free(c);
}

static void
test_include(void)
{
	const char *inc = put_file("inc.conf", 0644,
	    "max_forwards = 70;\n"
	    "udp_mtu = 1;\n");
	struct conf *c;

	c = load(fmt("sip: {\n@include \"%s\"\n};\n", inc));
	T_OK(c == NULL, "error in an included file: refused");
	conf_free(c);
	check_errors("error in an included file", inc, (const char *const[]){
	    "2: sip.udp_mtu: 1 is out of range [500..65535]", NULL });
}

static void
test_message_text(void)
{
	char big[1500], want[1600];

	EXPECT("control characters do not break the line",
	    "log: { level = \"a\\nb\\tc\"; };\n",
	    "1: log.level: unknown level \"a?b?c\"");

	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	snprintf(want, sizeof(want), "1: log.level: unknown level \"%s\"",
	    big);
	EXPECT("long message is not truncated",
	    fmt("log: { level = \"%s\"; };\n", big), want);
}

static void
test_misc(void)
{
	conf_free(NULL); /* must not crash: the program's exit says so */
	T_EQ_STR(conf_transport_name(CONF_TP_UDP), "udp", "udp name");
	T_EQ_STR(conf_transport_name(CONF_TP_TCP), "tcp", "tcp name");
	T_EQ_STR(conf_transport_name(CONF_TP_TLS), "tls", "tls name");
}

static void
cleanup(void)
{
	clear_errors();
	while (nfiles > 0) {
		unlink(files[--nfiles]);
		free(files[nfiles]);
	}
	rmdir(tmpdir);
}

static void
set_challenge_tail(void)
{
	const char *cert = put_file("enc.pem", 0644, "certificate\n");

	if (asprintf(&conf_tail, "challenge: { mode = \"legacy-unsigned\"; "
	    "encryption_certificate = \"%s\"; };\n", cert) < 0) {
		printf("Bail out! out of memory\n");
		exit(1);
	}
}

static void
test_challenge(void)
{
	struct conf *c;
	const char *cert = put_file("sign.pem", 0644, "certificate\n");
	const char *key = put_file("sign.key", 0600, "key\n");
	const char *enc = put_file("enc.pem", 0644, "certificate\n");
	const char *chain = put_file("chain.pem", 0644, "certificate\n");

	c = load_ok("challenge defaults", "policy: { rules = ( { active = "
	    "false; } ); };\n");
	if (c != NULL) {
		T_OK(c->ch_signing_certificate == NULL && c->ch_signing_key ==
		    NULL && c->nch_signing_chain == 0, "no signing key");
		T_OK(c->ch_encryption_certificate == NULL, "no certificate");
		T_EQ_INT(c->ch_legacy_unsigned, 0, "signed by default");
		T_EQ_INT(c->ch_sign_495, 1, "495 signed by default");
		T_EQ_INT(c->ch_base64, 0, "binary parts by default");
		T_EQ_STR(c->ch_warn_agent, "127.0.0.1",
		    "warn-agent defaults to the first listener");
		T_EQ_INT(c->ch_496_code, 496, "496 by default");
		T_EQ_STR(c->ch_496_phrase, "Proxy Undecipherable", "496 phrase");
		T_EQ_INT(c->ch_495_code, 495, "495 by default");
		T_EQ_STR(c->ch_495_phrase, "Signature Required", "495 phrase");
		T_EQ_INT(c->ch_warn_code, 380, "warn-code 380 by default");
		T_EQ_INT(c->ch_rate, 10, "challenge rate");
		T_EQ_INT(c->ch_burst, 20, "challenge burst");
		T_EQ_INT(c->decrypt_rate, 100, "decrypt rate");
		T_EQ_INT(c->decrypt_burst, 200, "decrypt burst");
		T_EQ_INT(c->nlabel_headers, 2, "two label header names");
		if (c->nlabel_headers == 2) {
			T_EQ_STR(c->label_headers[0], "Proxy-Inspect-Body",
			    "label header -06");
			T_EQ_STR(c->label_headers[1], "Proxy-Required-Body",
			    "label header -02");
		}
	}
	conf_free(c);

	c = load_ok("challenge full", fmt(
	    "sip: { own_names = [ \"proxy.example.com\" ]; };\n"
	    "inspect: { decrypt_rate = 0; decrypt_burst = 3;\n"
	    "\tlabel_headers = [ \"X-Inspect\" ]; };\n"
	    "policy: { rules = ( { } ); };\n"
	    "challenge: {\n"
	    "\tsigning_certificate = \"%s\"; signing_key = \"%s\";\n"
	    "\tsigning_chain = [ \"%s\" ]; encryption_certificate = \"%s\";\n"
	    "\tmode = \"signed\"; sign_495 = false; encoding = \"base64\";\n"
	    "\twarn_agent = \"[::1]:5061\";\n"
	    "\tundecipherable_code = 499; undecipherable_phrase = \"Show Me\";\n"
	    "\tsignature_code = 498; signature_phrase = \"\";\n"
	    "\twarn_code = 399; rate = 0; burst = 1;\n"
	    "};\n", cert, key, chain, enc));
	if (c != NULL) {
		T_EQ_STR(c->ch_signing_certificate, cert, "signing cert");
		T_EQ_STR(c->ch_signing_key, key, "signing key");
		T_EQ_INT(c->nch_signing_chain, 1, "one chain file");
		T_EQ_STR(c->ch_encryption_certificate, enc, "encryption cert");
		T_EQ_INT(c->ch_sign_495, 0, "495 unsigned");
		T_EQ_INT(c->ch_base64, 1, "base64 parts");
		T_EQ_STR(c->ch_warn_agent, "[::1]:5061", "warn-agent as set");
		T_EQ_INT(c->ch_496_code, 499, "496 code");
		T_EQ_STR(c->ch_496_phrase, "Show Me", "496 phrase");
		T_EQ_INT(c->ch_495_code, 498, "495 code");
		T_EQ_STR(c->ch_495_phrase, "", "empty 495 phrase");
		T_EQ_INT(c->ch_warn_code, 399, "warn code");
		T_EQ_INT(c->ch_rate, 0, "challenge rate unlimited");
		T_EQ_INT(c->decrypt_rate, 0, "decrypt rate unlimited");
		T_EQ_INT(c->decrypt_burst, 3, "decrypt burst");
		T_EQ_INT(c->nlabel_headers, 1, "one label header name");
	}
	conf_free(c);

	c = load_ok("challenge certificate from inspect.keys", fmt(
	    "sip: { own_names = [ \"proxy.example.com\", \"p2\" ]; };\n"
	    "inspect: { keys = ( { certificate = \"%s\"; key = \"%s\"; } ); };\n"
	    "policy: { rules = ( { } ); };\n"
	    "challenge: { mode = \"legacy-unsigned\"; };\n", enc, key));
	if (c != NULL) {
		T_EQ_STR(c->ch_encryption_certificate, enc,
		    "first decryption certificate handed out");
		T_EQ_STR(c->ch_warn_agent, "proxy.example.com",
		    "warn-agent defaults to the first own name");
	}
	conf_free(c);
}

static void
test_challenge_errors(void)
{
	EXPECT("active policy without challenge keys",
	    "policy: {\n\trules = ( { } );\n};\n",
	    "2: challenge.encryption_certificate: must be set when a policy "
	    "rule is active and inspect.keys is empty",
	    "2: challenge.signing_certificate: must be set when a policy "
	    "rule is active",
	    "2: challenge.signing_key: must be set when a policy rule is "
	    "active");
	EXPECT("empty challenge settings",
	    "policy: { rules = ( { } ); };\n"
	    "challenge: {\n\tsigning_certificate = \"\";\n"
	    "\tsigning_key = \"\";\n\tencryption_certificate = \"\";\n};\n",
	    "5: challenge.encryption_certificate: must be set when a policy "
	    "rule is active and inspect.keys is empty",
	    "3: challenge.signing_certificate: must be set when a policy "
	    "rule is active",
	    "4: challenge.signing_key: must be set when a policy rule is "
	    "active");
	EXPECT("challenge values",
	    "inspect: { label_headers = [ \"Proxy Inspect\" ]; decrypt_burst "
	    "= 0; };\n"
	    "challenge: {\n"
	    "\tmode = \"unsigned\"; encoding = \"hex\";\n"
	    "\twarn_agent = \"a b\"; undecipherable_phrase = \"x\\ny\";\n"
	    "\tundecipherable_code = 300; warn_code = 400;\n"
	    "\tsignature_code = 496;\n"
	    "\tsigning_key = \"/nonexistent/key\";\n"
	    "};\n",
	    "1: inspect.label_headers: \"Proxy Inspect\" is not a header name",
	    "1: inspect.decrypt_burst: 0 is out of range [1..1000000]",
	    "3: challenge.mode: unknown value \"unsigned\"",
	    "3: challenge.encoding: unknown value \"hex\"",
	    "4: challenge.warn_agent: \"a b\" is not a host or host:port",
	    "4: challenge.undecipherable_phrase: control characters are not "
	    "allowed",
	    "5: challenge.undecipherable_code: 300 is out of range [400..699]",
	    "5: challenge.warn_code: 400 is out of range [300..399]",
	    "7: challenge.signing_key: cannot read \"/nonexistent/key\": No "
	    "such file or directory",
	    "6: challenge.signature_code: must differ from "
	    "challenge.undecipherable_code");
	EXPECT("empty label header list",
	    "inspect: { label_headers = [ ]; };\n",
	    "1: inspect.label_headers: must not be empty");
}

int
main(void)
{
	const char *t = getenv("TMPDIR");

	snprintf(tmpdir, sizeof(tmpdir), "%s/test_conf.XXXXXX",
	    t != NULL && *t != '\0' ? t : "/tmp");
	if (mkdtemp(tmpdir) == NULL) {
		printf("Bail out! mkdtemp %s: %s\n", tmpdir, strerror(errno));
		return 1;
	}
	test_defaults();
	test_shipped();
	test_full();
	test_rules();
	test_syntax();
	test_cannot_open();
	test_unknown();
	test_types();
	test_ranges();
	test_values();
	test_listen();
	test_tls();
	test_tls_relative();
	test_source_budget();
	test_inspect();
	test_inspect_errors();
	test_many_errors();
	set_challenge_tail();
	test_policy_defaults();
	test_policy_full();
	test_policy_errors();
	test_policy_match();
	free(conf_tail);
	conf_tail = NULL;
	test_challenge();
	test_challenge_errors();
	test_include();
	test_message_text();
	test_misc();
	cleanup();
	return t_done();
}
