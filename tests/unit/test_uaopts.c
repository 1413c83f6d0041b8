/* test_uaopts.c - e2mua's configuration file and command line. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "t.h"
#include "ua/uaopts.h"

static char dir[] = "/tmp/test_uaopts.XXXXXX";
static char file[128];

static void
write_file(const char *text)
{
	FILE *f = fopen(file, "w");

	if (f != NULL) {
		fputs(text, f);
		fclose(f);
	}
}

/* Parse a NULL-terminated argument list; messages into errs. */
static enum uaopts_result
parse(struct uaopts *o, char *errs, size_t size, ...)
{
	/* Writable, like a real argv (-x and -s split their argument); they
	 * live until the next parse(). */
	static char pool[32][256];
	char *argv[32];
	const char *a;
	int argc = 0;
	va_list ap;
	FILE *f = fmemopen(errs, size, "w");
	enum uaopts_result r;

	argv[argc++] = (char *)"e2mua";
	va_start(ap, size);
	while (argc < 31 && (a = va_arg(ap, const char *)) != NULL) {
		snprintf(pool[argc], sizeof(pool[0]), "%s", a);
		argv[argc] = pool[argc];
		argc++;
	}
	va_end(ap);
	argv[argc] = NULL;
	memset(errs, 0, size);
	r = uaopts_parse(argc, argv, o, f);
	fclose(f);
	return r;
}

static void
command_line(void)
{
	struct uaopts o;
	char errs[2048];

	T_EQ_INT(parse(&o, errs, sizeof(errs), "-t", "sip:b@h", NULL),
	    UAOPTS_OK, "-t alone is enough");
	T_EQ_STR(o.type, "text/plain", "default type");
	T_EQ_INT(o.timeout, 10, "default timeout");
	T_EQ_INT(o.max_proxies, 3, "default max proxies");
	T_EQ_INT(o.max_skew, 300, "default skew");
	uaopts_free(&o);
	T_EQ_INT(parse(&o, errs, sizeof(errs), NULL), UAOPTS_USAGE,
	    "no -t and no -l: usage");
	uaopts_free(&o);
	T_EQ_INT(parse(&o, errs, sizeof(errs), "-l", NULL), UAOPTS_OK,
	    "-l needs no -t");
	uaopts_free(&o);
	T_EQ_INT(parse(&o, errs, sizeof(errs), "-t", "sip:b@h", "-s", "c.pem",
	    NULL), UAOPTS_USAGE, "-s without :KEY: usage");
	uaopts_free(&o);
	T_EQ_INT(parse(&o, errs, sizeof(errs), "-t", "sip:b@h", "-T", "1x",
	    NULL), UAOPTS_USAGE, "-T not a number: usage");
	uaopts_free(&o);
	T_EQ_INT(parse(&o, errs, sizeof(errs), "-t", "sip:b@h", "-T", "0",
	    NULL), UAOPTS_USAGE, "-T 0: usage");
	uaopts_free(&o);
	T_EQ_INT(parse(&o, errs, sizeof(errs), "-t", "sip:b@h", "extra", NULL),
	    UAOPTS_USAGE, "a stray argument: usage");
	uaopts_free(&o);
	T_EQ_INT(parse(&o, errs, sizeof(errs), "-V", NULL), UAOPTS_VERSION,
	    "-V: version");
	uaopts_free(&o);
	T_EQ_INT(parse(&o, errs, sizeof(errs), "--version", NULL),
	    UAOPTS_VERSION, "--version: version");
	uaopts_free(&o);
	T_EQ_INT(parse(&o, errs, sizeof(errs), "-h", NULL), UAOPTS_HELP,
	    "-h: help");
	uaopts_free(&o);
	T_EQ_INT(parse(&o, errs, sizeof(errs), "--help", NULL), UAOPTS_HELP,
	    "--help: help");
	uaopts_free(&o);
	T_EQ_INT(parse(&o, errs, sizeof(errs), "-t", "sip:b@h", "-I", NULL),
	    UAOPTS_OK, "-I");
	T_EQ_STR(o.type, "application/sdp", "-I offers SDP");
	T_OK(strcmp(o.text, uaopts_sdp_offer) == 0, "the fixed offer");
	uaopts_free(&o);
	T_EQ_INT(parse(&o, errs, sizeof(errs), "-t", "sip:b@h", "-x",
	    "p.test=p.pem", "-x", "q.test=q.pem", "-e", "b.pem", "-a", "p.test",
	    "-r", "ca.pem", "-R", "ca.crl", "-P", "cache", "-n", "1", NULL),
	    UAOPTS_OK, "lists and scalars");
	T_OK(o.nproxies == 2 && strcmp(o.proxies[1].host, "q.test") == 0 &&
	    strcmp(o.proxies[1].cert_file, "q.pem") == 0, "-x twice");
	T_OK(o.npeer == 1 && o.nallow == 1 && o.ntrust == 1 && o.ncrl == 1 &&
	    o.max_proxies == 1 && strcmp(o.cache_file, "cache") == 0,
	    "-e -a -r -R -n -P");
	uaopts_free(&o);
}

static void
config_file(void)
{
	struct uaopts o;
	char errs[2048];

	write_file("to = \"sip:bob@example.com\";\n"
	    "from = \"sip:alice@example.com\";\n"
	    "timeout = 7;\n"
	    "sign_certificate = \"a.pem\"; sign_key = \"a.key\";\n"
	    "sign_when = \"asked\"; sign_format = \"signed-data\";\n"
	    "envelopes = \"separate\"; cipher = \"aes-128-cbc\";\n"
	    "peer_certificates = [ \"b.pem\" ];\n"
	    "proxies = ( { host = \"p.test\"; certificate = \"p.pem\"; } );\n"
	    "trust_anchors = [ \"ca.pem\" ]; crl_files = [ \"ca.crl\" ];\n"
	    "allowed_proxies = [ \"p.test\", \"q.test\" ];\n"
	    "max_proxies = 2; max_skew = 60;\n"
	    "cache = \"c\"; cache_ttl = 600;\n"
	    "call = true; hold = 2;\n");
	T_EQ_INT(parse(&o, errs, sizeof(errs), "-F", file, NULL), UAOPTS_OK,
	    "a full file");
	T_EQ_STR(errs, "", "no messages");
	T_EQ_STR(o.to, "sip:bob@example.com", "to");
	T_OK(o.timeout == 7 && o.lazy_sign && o.signed_data && o.separate &&
	    o.cbc && o.invite && o.hold == 2, "scalars, choices, booleans");
	T_OK(o.nproxies == 1 && o.npeer == 1 && o.ntrust == 1 && o.ncrl == 1 &&
	    o.nallow == 2 && o.max_proxies == 2 && o.max_skew == 60 &&
	    o.cache_ttl == 600, "lists and numbers");
	T_EQ_STR(o.type, "application/sdp", "call = true offers SDP");
	uaopts_free(&o);

	T_EQ_INT(parse(&o, errs, sizeof(errs), "-F", file, "-t", "sip:c@h",
	    "-T", "3", "-a", "r.test", "-x", "r.test=r.pem", NULL), UAOPTS_OK,
	    "file plus flags");
	T_OK(strcmp(o.to, "sip:c@h") == 0 && o.timeout == 3,
	    "flags replace scalars");
	T_OK(o.nallow == 3 && strcmp(o.allow[2], "r.test") == 0 &&
	    o.nproxies == 2, "flags add to lists");
	uaopts_free(&o);

	write_file("to = \"sip:b@h\";\n"
	    "colour = \"blue\";\n"
	    "timeout = \"ten\";\n"
	    "envelopes = \"both\";\n"
	    "proxies = ( { host = \"p\"; } );\n"
	    "call = 1;\n");
	T_EQ_INT(parse(&o, errs, sizeof(errs), "-F", file, NULL),
	    UAOPTS_BAD_FILE, "a bad file is refused");
	T_OK(strstr(errs, ":2: unknown setting \"colour\"") != NULL,
	    "unknown setting at its line");
	T_OK(strstr(errs, ":3: timeout: expected a number") != NULL,
	    "wrong type at its line");
	T_OK(strstr(errs, ":4: envelopes: \"both\" is neither") != NULL,
	    "bad choice at its line");
	T_OK(strstr(errs, ":5: proxies: host and certificate") != NULL,
	    "incomplete proxy at its line");
	T_OK(strstr(errs, ":6: call: expected true or false") != NULL,
	    "bad boolean at its line (every error at once)");
	T_OK(strncmp(errs, file, strlen(file)) == 0, "messages name the file");
	uaopts_free(&o);

	write_file("to = \"sip:b@h\";\ntimeout = ;\n");
	T_EQ_INT(parse(&o, errs, sizeof(errs), "-F", file, NULL),
	    UAOPTS_BAD_FILE, "a syntax error is refused");
	T_OK(strstr(errs, ":2: ") != NULL, "syntax error with its line");
	uaopts_free(&o);
	T_EQ_INT(parse(&o, errs, sizeof(errs), "-F", "/nonexistent/e2mua.conf",
	    NULL), UAOPTS_BAD_FILE, "a missing file is refused");
	T_OK(strstr(errs, "cannot read") != NULL, "and says so");
	uaopts_free(&o);
}

/* -l -g: the registration's options, their checks and their settings. */
static void
registration(void)
{
	struct uaopts o;
	char errs[2048];

	T_EQ_INT(parse(&o, errs, sizeof(errs), "-l", "-g", "sip:example.com",
	    NULL), UAOPTS_OK, "-l -g");
	T_EQ_STR(o.registrar, "sip:example.com", "the registrar");
	T_EQ_INT(o.expires, 600, "expiry asked: 600 by default");
	T_OK(o.instance == NULL && o.keepalive == 0,
	    "random instance, keep-alive from the registrar by default");
	uaopts_free(&o);
	T_EQ_INT(parse(&o, errs, sizeof(errs), "-l", "--register",
	    "sip:127.0.0.1:5060;transport=tcp", "--expires", "60",
	    "--instance", "urn:uuid:f81d4fae-7dec-11d0-a765-00a0c91e6bf6",
	    "--keepalive", "2", "-f", "sip:bob@example.com", "-o",
	    "sip:edge.test", NULL), UAOPTS_OK, "the long options");
	T_OK(strcmp(o.registrar, "sip:127.0.0.1:5060;transport=tcp") == 0 &&
	    o.expires == 60 && o.keepalive == 2 && strcmp(o.instance,
	    "urn:uuid:f81d4fae-7dec-11d0-a765-00a0c91e6bf6") == 0 &&
	    strcmp(o.from, "sip:bob@example.com") == 0 &&
	    strcmp(o.proxy, "sip:edge.test") == 0,
	    "--register --expires --instance --keepalive, -f is the AOR");
	uaopts_free(&o);
	T_EQ_INT(parse(&o, errs, sizeof(errs), "-l", "-g", "sip:r", "-E", "30",
	    "-i", "urn:x:y", "-K", "5", NULL), UAOPTS_OK, "the short ones");
	T_OK(o.expires == 30 && o.keepalive == 5 &&
	    strcmp(o.instance, "urn:x:y") == 0, "-E -i -K");
	uaopts_free(&o);
	T_EQ_INT(parse(&o, errs, sizeof(errs), "-t", "sip:b@h", "-g", "sip:r",
	    NULL), UAOPTS_USAGE, "-g without -l: usage");
	uaopts_free(&o);
	T_EQ_INT(parse(&o, errs, sizeof(errs), "-l", "-g", "sip:r", "-E", "0",
	    NULL), UAOPTS_USAGE, "-E 0: usage (unregistering is at exit)");
	uaopts_free(&o);
	T_EQ_INT(parse(&o, errs, sizeof(errs), "-l", "-g", "sip:r", "-i",
	    "f81d4fae-7dec", NULL), UAOPTS_USAGE, "-i not a URN: usage");
	uaopts_free(&o);
	T_EQ_INT(parse(&o, errs, sizeof(errs), "-l", "-g", "sip:r", "-E", "x",
	    NULL), UAOPTS_USAGE, "-E not a number: usage");
	uaopts_free(&o);
	T_EQ_INT(parse(&o, errs, sizeof(errs), "-l", "-T", "0", NULL),
	    UAOPTS_OK, "-l -T 0: until a signal");
	uaopts_free(&o);

	write_file("listen = true;\n"
	    "from = \"sip:bob@example.com\";\n"
	    "registrar = \"sip:example.com\";\n"
	    "expires = 120;\n"
	    "instance = \"urn:uuid:f81d4fae-7dec-11d0-a765-00a0c91e6bf6\";\n"
	    "keepalive = 25;\n");
	T_EQ_INT(parse(&o, errs, sizeof(errs), "-F", file, NULL), UAOPTS_OK,
	    "registration settings in the file");
	T_EQ_STR(errs, "", "no messages");
	T_OK(o.listen && strcmp(o.registrar, "sip:example.com") == 0 &&
	    o.expires == 120 && o.keepalive == 25 && o.instance != NULL,
	    "registrar, expires, instance, keepalive");
	uaopts_free(&o);
	T_EQ_INT(parse(&o, errs, sizeof(errs), "-F", file, "-E", "90", NULL),
	    UAOPTS_OK, "file plus -E");
	T_EQ_INT(o.expires, 90, "the flag wins");
	uaopts_free(&o);
	write_file("listen = true;\nregistrar = 5;\nexpires = \"x\";\n");
	T_EQ_INT(parse(&o, errs, sizeof(errs), "-F", file, NULL),
	    UAOPTS_BAD_FILE, "bad registration settings");
	T_OK(strstr(errs, ":2: registrar: expected a string") != NULL &&
	    strstr(errs, ":3: expires: expected a number") != NULL,
	    "each at its line");
	uaopts_free(&o);
}

int
main(void)
{
	if (mkdtemp(dir) == NULL)
		return 1;
	snprintf(file, sizeof(file), "%s/e2mua.conf", dir);
	command_line();
	config_file();
	registration();
	unlink(file);
	rmdir(dir);
	return t_done();
}
