/* test_tlsname.c - the name rules of outgoing TLS (crypto/tlsname.h) on
 * certificates made here: IP SANs, DNS SANs, the CN fallback, sip: URI
 * SANs, no wildcards, and the reference names Sofia passes (brackets,
 * sip:/sips: URIs). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include "crypto/tlsname.h"
#include "t.h"

static EVP_PKEY *key;
static char path[64];

/* A self-signed certificate with CN and SAN (NULL: no extension) in
 * the file at path. */
static int
make(const char *cn, const char *san)
{
	X509 *c = X509_new();
	X509_NAME *n = X509_get_subject_name(c);
	X509_EXTENSION *e = NULL;
	X509V3_CTX ctx;
	FILE *f;
	int ok;

	ASN1_INTEGER_set(X509_get_serialNumber(c), 1);
	X509_gmtime_adj(X509_getm_notBefore(c), 0);
	X509_gmtime_adj(X509_getm_notAfter(c), 3600);
	X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_ASC,
	    (const unsigned char *)cn, -1, -1, 0);
	X509_set_issuer_name(c, n);
	X509_set_pubkey(c, key);
	if (san != NULL) {
		X509V3_set_ctx(&ctx, c, c, NULL, NULL, 0);
		e = X509V3_EXT_conf_nid(NULL, &ctx, NID_subject_alt_name, san);
		X509_add_ext(c, e, -1);
		X509_EXTENSION_free(e);
	}
	ok = e != NULL || san == NULL;
	ok = ok && X509_sign(c, key, EVP_sha256()) > 0 &&
	    (f = fopen(path, "w")) != NULL;
	if (ok) {
		ok = PEM_write_X509(f, c) == 1;
		ok = fclose(f) == 0 && ok;
	}
	X509_free(c);
	return ok;
}

static int
match(const char *name)
{
	char why[256];

	return tlsname_match_file(path, name, why, sizeof(why));
}

int
main(void)
{
	char why[256];
	int fd;

	snprintf(path, sizeof(path), "/tmp/test_tlsname.XXXXXX");
	fd = mkstemp(path);
	key = EVP_EC_gen("P-256");
	T_OK(fd >= 0 && key != NULL, "a key and a file");
	if (fd < 0 || key == NULL)
		return 1;
	close(fd);

	T_OK(make("ip.test", "IP:127.0.0.1,IP:2001:db8::1"), "IP SANs");
	T_EQ_INT(match("127.0.0.1"), 1, "an IPv4 literal in an IP SAN");
	T_EQ_INT(match("[2001:db8::1]"), 1, "a bracketed IPv6 literal");
	T_EQ_INT(match("2001:DB8:0::1"), 1, "IPv6 in another spelling");
	T_EQ_INT(match("sips:127.0.0.1"), 1, "a sips: URI of the IP");
	T_EQ_INT(match("127.0.0.2"), 0, "another IP");
	T_EQ_INT(match("ip.test"), 1,
	    "a host name as CN when the SANs are IPs only (no DNS SAN)");

	T_OK(make("127.0.0.1", NULL), "an IP as CN, no SAN");
	T_EQ_INT(match("127.0.0.1"), 0, "an IP never matches the CN");

	T_OK(make("cn.test", NULL), "a host name as CN, no SAN");
	T_EQ_INT(match("cn.test"), 1, "it matches the CN");
	T_EQ_INT(match("CN.Test"), 1, "without case");
	T_EQ_INT(match("other.test"), 0, "another name does not");

	T_OK(make("cn.test", "DNS:dns.test,DNS:*.wild.test"), "DNS SANs");
	T_EQ_INT(match("dns.test"), 1, "a DNS SAN");
	T_EQ_INT(match("sip:dns.test"), 1, "a sip: URI of it");
	T_EQ_INT(match("cn.test"), 0, "not the CN beside a DNS SAN");
	T_EQ_INT(match("a.wild.test"), 0, "no wildcards (RFC 5922)");
	T_EQ_INT(tlsname_match_file(path, "cn.test", why, sizeof(why)), 0,
	    "refused again, with a reason");
	T_EQ_STR(why, "certificate does not name host cn.test (it names "
	    "DNS:dns.test, DNS:*.wild.test, CN:cn.test)", "the reason");

	T_OK(make("cn.test", "URI:SIP:Uri.Test,URI:sip:port.test:5061"),
	    "sip: URI SANs");
	T_EQ_INT(match("uri.test"), 1, "a sip: URI SAN (RFC 5922)");
	T_EQ_INT(match("port.test"), 0, "not one with a port");
	T_EQ_INT(match("cn.test"), 1, "the CN: no DNS SAN (as OpenSSL)");

	T_EQ_INT(match(""), 0, "an empty name matches nothing");
	T_EQ_INT(match("[]"), 0, "nor empty brackets");
	T_EQ_INT(tlsname_match_file("/nonexistent", "x", why, sizeof(why)),
	    -1, "an unreadable file");
	T_EQ_INT(tlsname_check("x"), -1, "no handshake waits for a check");

	unlink(path);
	EVP_PKEY_free(key);
	printf("1..%d\n", t_count);
	return t_failed != 0;
}
