/*
 * test_uamsg.c - the user agent's request body (digest section 2).
 *
 * Keys are made at test time by the openssl command line in a mkdtemp()
 * directory. Every body is read back by our MIME parser, and every
 * envelope is opened and every signature checked by the openssl command
 * line, independently of cms.c (and by cms_verify() as well).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crypto/cms.h"
#include "e2m/mime.h"
#include "t.h"
#include "ua/uamsg.h"
#include "ua/uarecv.h"

static char dir[64];
static const char TEXT[] = "meet me at noon";
static const char ENTITY[] = "Content-Type: text/plain\r\n\r\nmeet me at noon";

static const char GEN[] =
    "set -e; cd '%s'; O=openssl\n"
    "cat > ext.cnf <<'CNF'\n"
    "[ ca ]\nbasicConstraints = critical,CA:TRUE\n"
    "keyUsage = critical,keyCertSign,cRLSign\n"
    "[ enc ]\nbasicConstraints = CA:FALSE\n"
    "keyUsage = critical,keyEncipherment,keyAgreement\n"
    "[ sign ]\nbasicConstraints = CA:FALSE\n"
    "keyUsage = critical,digitalSignature\n"
    "extendedKeyUsage = emailProtection\n"
    "subjectAltName = email:alice@example.com\n"
    "CNF\n"
    "$O genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out ca.key"
    " 2>/dev/null\n"
    "$O req -new -x509 -config /dev/null -key ca.key -subj /CN=UA-CA -days 2"
    " -sha256 -extensions ca -out ca.pem 2>/dev/null ||"
    " $O req -new -x509 -key ca.key -subj /CN=UA-CA -days 2 -sha256"
    " -addext basicConstraints=critical,CA:TRUE"
    " -addext keyUsage=critical,keyCertSign,cRLSign -out ca.pem\n"
    "issue() {\n"
    "  case $2 in\n"
    "  ec) $O genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256"
    " -out $1.key 2>/dev/null ;;\n"
    "  rsa) $O genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048"
    " -out $1.key 2>/dev/null ;;\n"
    "  esac\n"
    "  $O req -new -key $1.key -subj /CN=$1 -out $1.csr 2>/dev/null\n"
    "  $O x509 -req -in $1.csr -CA ca.pem -CAkey ca.key -set_serial $4"
    " -days 2 -sha256 -extfile ext.cnf -extensions $3 -out $1.pem"
    " 2>/dev/null\n"
    "}\n"
    "issue uas ec enc 2\nissue proxy rsa enc 3\nissue alice ec sign 4\n";

static int
sh(const char *fmt, const char *a, const char *b)
{
	char cmd[4096];

	snprintf(cmd, sizeof(cmd), fmt, a, b);
	return system(cmd);
}

static char *
path(const char *name)
{
	static char buf[8][256];
	static int i;

	i = (i + 1) % 8;
	snprintf(buf[i], sizeof(buf[i]), "%s/%s", dir, name);
	return buf[i];
}

static unsigned char *
slurp(const char *name, size_t *len)
{
	FILE *f = fopen(path(name), "rb");
	unsigned char *p = NULL;
	long n;

	*len = 0;
	if (f == NULL)
		return NULL;
	if (fseek(f, 0, SEEK_END) == 0 && (n = ftell(f)) >= 0 &&
	    fseek(f, 0, SEEK_SET) == 0 && (p = malloc((size_t)n + 1)) != NULL &&
	    fread(p, 1, (size_t)n, f) == (size_t)n)
		*len = (size_t)n;
	fclose(f);
	return p;
}

static void
spill(const char *name, const void *p, size_t len)
{
	FILE *f = fopen(path(name), "wb");

	if (f != NULL) {
		fwrite(p, 1, len, f);
		fclose(f);
	}
}

/* The openssl command line opens the envelope in file env with key. */
static unsigned char *
cli_decrypt(const char *env, const char *key, size_t *len)
{
	char cmd[2048];

	snprintf(cmd, sizeof(cmd), "openssl cms -decrypt -binary -inform DER "
	    "-in '%s' -recip '%s/%s.pem' -inkey '%s/%s.key' -out '%s/plain' "
	    "2>/dev/null", path(env), dir, key, dir, key, dir);
	*len = 0;
	if (system(cmd) != 0)
		return NULL;
	return slurp("plain", len);
}

/* A whole MIME entity (decrypted content): graft it under a dummy leaf,
 * as the decrypt stage does. Returns the tree; its child is the entity. */
static struct mime_entity *
parse_entity(const unsigned char *p, size_t len)
{
	struct mime_headers h = { "application/octet-stream", NULL, NULL,
	    NULL };
	struct mime_entity *root = NULL;

	if (mime_parse(&h, "x", 1, NULL, &root, NULL) != MIME_OK)
		return NULL;
	if (mime_graft(root, p, len, NULL, NULL) != MIME_OK) {
		mime_free(root);
		return NULL;
	}
	return root;
}

/* The openssl command line opens the envelope in file env with key; 1 if
 * the plaintext equals want. */
static int
cli_opens(const char *env, const char *key, const void *want, size_t wlen)
{
	char cmd[2048];
	size_t len;
	unsigned char *got;
	int same;

	snprintf(cmd, sizeof(cmd), "openssl cms -decrypt -binary -inform DER "
	    "-in '%s' -recip '%s/%s.pem' -inkey '%s/%s.key' -out '%s/plain' "
	    "2>/dev/null", path(env), dir, key, dir, key, dir);
	if (system(cmd) != 0)
		return 0;
	got = slurp("plain", &len);
	same = got != NULL && len == wlen && memcmp(got, want, wlen) == 0;
	free(got);
	return same;
}

/* The openssl command line checks a detached signature over part. */
static int
cli_verifies(const struct mime_entity *part, const struct mime_entity *sig)
{
	char cmd[2048];

	spill("part1", part->raw, part->raw_len);
	spill("sig.der", sig->data, sig->data_len);
	snprintf(cmd, sizeof(cmd), "openssl cms -verify -binary -inform DER "
	    "-in '%s/sig.der' -content '%s/part1' -CAfile '%s/ca.pem' "
	    "-out /dev/null 2>/dev/null", dir, dir, dir);
	return system(cmd) == 0;
}

static struct mime_entity *
parse(const struct uamsg_out *o)
{
	struct mime_headers h = { o->content_type, o->content_id,
	    o->disposition, NULL };
	struct mime_entity *tree = NULL;

	if (mime_parse(&h, o->body, o->len, NULL, &tree, NULL) != MIME_OK)
		return NULL;
	return tree;
}

static int
is(const struct mime_entity *e, const char *type, const char *sub)
{
	return e != NULL && strcmp(e->type, type) == 0 &&
	    strcmp(e->subtype, sub) == 0;
}

static void
test_plain_and_signed(const struct cms_signing_key *sk,
    const struct cms_keys *trust)
{
	struct uamsg_in in = { .type = "text/plain",
	    .content = (const uint8_t *)TEXT, .len = sizeof(TEXT) - 1 };
	struct uamsg_out o;
	struct mime_entity *t;
	char err[256];
	uint8_t *content = NULL;
	size_t clen = 0;

	T_EQ_INT(uamsg_build(&in, &o, err, sizeof(err)), 0, "plain built");
	T_EQ_STR(o.content_type, "text/plain", "plain: Content-Type");
	T_OK(o.len == in.len && memcmp(o.body, TEXT, o.len) == 0,
	    "plain: body as given");
	T_EQ_INT(o.nlabels, 0, "plain: no label");
	uamsg_out_free(&o);

	in.sk = sk;
	T_EQ_INT(uamsg_build(&in, &o, err, sizeof(err)), 0, "signed built");
	t = parse(&o);
	T_OK(is(t, "multipart", "signed") && t->nchildren == 2,
	    "signed: multipart/signed with two parts");
	if (t != NULL && t->nchildren == 2) {
		T_OK(t->children[0]->raw_len == sizeof(ENTITY) - 1 &&
		    memcmp(t->children[0]->raw, ENTITY, sizeof(ENTITY) - 1) ==
		    0, "signed: first part is the text entity, byte for byte");
		T_OK(is(t->children[1], "application", "pkcs7-signature"),
		    "signed: second part the signature");
		T_OK(cli_verifies(t->children[0], t->children[1]),
		    "signed: openssl cms -verify accepts it");
		T_EQ_INT(cms_verify(trust, t->children[1]->data,
		    t->children[1]->data_len, t->children[0]->raw,
		    t->children[0]->raw_len, NULL, NULL, NULL, NULL), CMS_OK,
		    "signed: cms_verify accepts it");
	}
	mime_free(t);
	uamsg_out_free(&o);

	in.signed_data = 1;
	T_EQ_INT(uamsg_build(&in, &o, err, sizeof(err)), 0,
	    "signed-data built");
	T_OK(strstr(o.content_type, "smime-type=signed-data") != NULL,
	    "signed-data: Content-Type");
	T_EQ_INT(cms_verify(trust, o.body, o.len, NULL, 0, NULL, &content,
	    &clen, NULL), CMS_OK, "signed-data: verifies, content returned");
	T_OK(clen == sizeof(ENTITY) - 1 && content != NULL &&
	    memcmp(content, ENTITY, clen) == 0,
	    "signed-data: carries the text entity");
	cms_plain_free(content, clen);
	uamsg_out_free(&o);
}

static void
test_encrypted(const struct cms_signing_key *sk, const struct cms_keys *trust)
{
	char uas_pem[256], proxy_pem[256];
	const char *uas[] = { uas_pem };
	struct uamsg_proxy px[] = { { "proxy.example.com", proxy_pem } };
	struct uamsg_in in = { .type = "text/plain",
	    .content = (const uint8_t *)TEXT, .len = sizeof(TEXT) - 1,
	    .peer_certs = uas, .npeer_certs = 1 };
	struct uamsg_out o;
	struct mime_entity *t, *p1;
	char err[256], want[128];
	unsigned char *plain;
	size_t plen;

	/* path() hands out rotating buffers: keep copies. */
	snprintf(uas_pem, sizeof(uas_pem), "%s", path("uas.pem"));
	snprintf(proxy_pem, sizeof(proxy_pem), "%s", path("proxy.pem"));

	T_EQ_INT(uamsg_build(&in, &o, err, sizeof(err)), 0,
	    "encrypted to the peer");
	T_OK(strstr(o.content_type, "smime-type=authEnveloped-data") != NULL,
	    "  AES-GCM authEnveloped-data by default");
	T_EQ_INT(o.nlabels, 0, "  no proxy, no label");
	spill("env", o.body, o.len);
	T_OK(cli_opens("env", "uas", ENTITY, sizeof(ENTITY) - 1),
	    "  the peer opens it (openssl cms -decrypt)");
	T_OK(!cli_opens("env", "proxy", ENTITY, sizeof(ENTITY) - 1),
	    "  the proxy cannot");
	uamsg_out_free(&o);

	in.proxies = px;
	in.nproxies = 1;
	in.cbc = 1;
	T_EQ_INT(uamsg_build(&in, &o, err, sizeof(err)), 0, "shared envelope");
	T_OK(strstr(o.content_type, "smime-type=enveloped-data") != NULL,
	    "  AES-CBC enveloped-data on request");
	T_EQ_INT(o.nlabels, 1, "  one label");
	T_OK(o.content_id != NULL && o.content_id[0] == '<', "  Content-ID");
	if (o.content_id != NULL && o.nlabels == 1) {
		snprintf(want, sizeof(want), "proxy.example.com;cid=\"%.*s\"",
		    (int)strlen(o.content_id) - 2, o.content_id + 1);
		T_EQ_STR(o.labels[0], want, "  label names the envelope");
	}
	spill("env", o.body, o.len);
	T_OK(cli_opens("env", "uas", ENTITY, sizeof(ENTITY) - 1),
	    "  the peer opens it");
	T_OK(cli_opens("env", "proxy", ENTITY, sizeof(ENTITY) - 1),
	    "  the proxy opens it");
	uamsg_out_free(&o);

	/* Sign-then-encrypt: the signature is inside. */
	in.cbc = 0;
	in.sk = sk;
	T_EQ_INT(uamsg_build(&in, &o, err, sizeof(err)), 0,
	    "signed, then encrypted");

	spill("env", o.body, o.len);
	plain = cli_decrypt("env", "proxy", &plen);
	T_OK(plain != NULL, "  the proxy opens it");
	if (plain != NULL) {
		struct mime_entity *root = parse_entity(plain, plen);
		struct mime_entity *inner = root != NULL &&
		    root->nchildren == 1 ? root->children[0] : NULL;

		T_OK(is(inner, "multipart", "signed") &&
		    inner->nchildren == 2,
		    "  the plaintext is multipart/signed");
		T_OK(inner != NULL && inner->nchildren == 2 &&
		    cms_verify(trust, inner->children[1]->data,
		    inner->children[1]->data_len, inner->children[0]->raw,
		    inner->children[0]->raw_len, NULL, NULL, NULL, NULL) ==
		    CMS_OK, "  the inner signature verifies");
		mime_free(root);
		free(plain);
	}
	uamsg_out_free(&o);

	/* Separate envelopes for the peer and the proxy. */
	in.sk = NULL;
	in.separate = 1;
	T_EQ_INT(uamsg_build(&in, &o, err, sizeof(err)), 0,
	    "separate envelopes");
	t = parse(&o);
	T_OK(is(t, "multipart", "mixed") && t->nchildren == 2,
	    "  multipart/mixed with two envelopes");
	if (t != NULL && t->nchildren == 2) {
		p1 = t->children[1];
		T_OK(t->children[0]->handling != NULL &&
		    strcmp(t->children[0]->handling, "required") == 0 &&
		    p1->handling != NULL && strcmp(p1->handling, "optional") ==
		    0, "  peer part required, proxy part optional (Q7)");
		if (p1->content_id != NULL)
			snprintf(want, sizeof(want),
			    "proxy.example.com;cid=\"%.*s\"",
			    (int)strlen(p1->content_id) - 2,
			    p1->content_id + 1);
		T_OK(o.nlabels == 1 && p1->content_id != NULL &&
		    strcmp(o.labels[0], want) == 0,
		    "  the label names the proxy's part");
		spill("envA", t->children[0]->data, t->children[0]->data_len);
		spill("envB", p1->data, p1->data_len);
		T_OK(cli_opens("envA", "uas", ENTITY, sizeof(ENTITY) - 1) &&
		    !cli_opens("envA", "proxy", ENTITY, sizeof(ENTITY) - 1),
		    "  first part: the peer's only");
		T_OK(cli_opens("envB", "proxy", ENTITY, sizeof(ENTITY) - 1) &&
		    !cli_opens("envB", "uas", ENTITY, sizeof(ENTITY) - 1),
		    "  second part: the proxy's only");
	}
	mime_free(t);
	uamsg_out_free(&o);
}

/* What the receiving UA makes of it (uarecv.c): the peer opens its part,
 * skips the proxy's optional one, checks the inner signature. */
static void
test_receive(const struct cms_signing_key *sk)
{
	char uas_pem[256], uas_key[256], proxy_pem[256], proxy_key[256],
	    ca_pem[256], err[256];
	const char *uas[] = { uas_pem }, *ca[] = { ca_pem };
	const char *pc[] = { proxy_pem }, *pk[] = { proxy_key };
	const char *uc[] = { uas_pem }, *uk[] = { uas_key };
	struct uamsg_proxy px[] = { { "proxy.example.com", proxy_pem } };
	struct uamsg_in in = { .type = "text/plain",
	    .content = (const uint8_t *)TEXT, .len = sizeof(TEXT) - 1,
	    .peer_certs = uas, .npeer_certs = 1, .proxies = px,
	    .nproxies = 1, .separate = 1, .sk = sk };
	struct uamsg_out o;
	struct mime_headers h = { 0 };
	struct uarecv r;
	struct cms_keys *peer, *proxy;

	snprintf(uas_pem, sizeof(uas_pem), "%s", path("uas.pem"));
	snprintf(uas_key, sizeof(uas_key), "%s", path("uas.key"));
	snprintf(proxy_pem, sizeof(proxy_pem), "%s", path("proxy.pem"));
	snprintf(proxy_key, sizeof(proxy_key), "%s", path("proxy.key"));
	snprintf(ca_pem, sizeof(ca_pem), "%s", path("ca.pem"));
	peer = cms_keys_load(uc, uk, 1, ca, 1, NULL, 0, err, sizeof(err));
	proxy = cms_keys_load(pc, pk, 1, ca, 1, NULL, 0, err, sizeof(err));
	T_OK(peer != NULL && proxy != NULL, "receiver keys loaded");
	if (peer == NULL || proxy == NULL ||
	    uamsg_build(&in, &o, err, sizeof(err)) != 0)
		goto out;
	h.content_type = o.content_type;
	T_EQ_INT(uarecv_open(peer, &h, o.body, o.len, &r), UARECV_OK,
	    "receiver: separate body read by the peer");
	T_OK(r.decrypted == 1 && r.undecipherable == 1,
	    "  its part opened, the proxy's optional part skipped");
	T_OK(r.signatures == 1 && r.valid == 1 &&
	    strcmp(r.signer, "alice <alice@example.com>") == 0,
	    "  inner signature valid, signer named");
	T_OK(strcmp(r.type, "text/plain") == 0 && r.content != NULL &&
	    strcmp(r.content, TEXT) == 0, "  the text shown");
	uarecv_free(&r);
	/* The proxy's key cannot open the peer's required part: 493. */
	T_EQ_INT(uarecv_open(proxy, &h, o.body, o.len, &r),
	    UARECV_UNDECIPHERABLE, "receiver without the peer's key: 493");
	uarecv_free(&r);
	uamsg_out_free(&o);
	h.content_type = "application/octet-stream";
	T_EQ_INT(uarecv_open(peer, &h, TEXT, sizeof(TEXT) - 1, &r),
	    UARECV_UNSUPPORTED, "receiver: no type it knows: 415");
	uarecv_free(&r);
	h.content_type = "multipart/mixed; boundary=x";
	T_EQ_INT(uarecv_open(peer, &h, TEXT, sizeof(TEXT) - 1, &r),
	    UARECV_MALFORMED, "receiver: broken multipart: 400");
	uarecv_free(&r);
out:
	cms_keys_free(peer);
	cms_keys_free(proxy);
}

static void
test_refusals(void)
{
	char uas_pem[256], proxy_pem[256], nope[256];
	struct uamsg_proxy px[] = { { "proxy.example.com", proxy_pem } };
	struct uamsg_proxy bad[] = { { "proxy;evil", proxy_pem } };
	const char *uas[] = { uas_pem }, *none[] = { nope };
	struct uamsg_in in = { .type = "text/plain",
	    .content = (const uint8_t *)TEXT, .len = sizeof(TEXT) - 1 };
	struct uamsg_out o;
	char err[256];

	snprintf(uas_pem, sizeof(uas_pem), "%s", path("uas.pem"));
	snprintf(proxy_pem, sizeof(proxy_pem), "%s", path("proxy.pem"));
	snprintf(nope, sizeof(nope), "%s", path("nope.pem"));
	in.proxies = px;
	in.nproxies = 1;
	T_EQ_INT(uamsg_build(&in, &o, err, sizeof(err)), -1,
	    "a proxy without encryption to the peer is refused");
	uamsg_out_free(&o);
	in.peer_certs = uas;
	in.npeer_certs = 1;
	in.proxies = bad;
	T_EQ_INT(uamsg_build(&in, &o, err, sizeof(err)), -1,
	    "a proxy host that would break the label is refused");
	uamsg_out_free(&o);
	in.proxies = NULL;
	in.nproxies = 0;
	in.type = "text";
	T_EQ_INT(uamsg_build(&in, &o, err, sizeof(err)), -1,
	    "a type without subtype is refused");
	uamsg_out_free(&o);
	in.type = "text/plain";
	in.peer_certs = none;
	T_EQ_INT(uamsg_build(&in, &o, err, sizeof(err)), -1,
	    "an unreadable certificate is refused");
	T_OK(err[0] != '\0', "  with a message");
	uamsg_out_free(&o);
}

int
main(void)
{
	struct cms_signing_key *sk;
	struct cms_keys *trust;
	const char *ca[1];
	char err[256];

	if (system("openssl version >/dev/null 2>&1") != 0) {
		printf("1..0 # SKIP no openssl command\n");
		return 0;
	}
	snprintf(dir, sizeof(dir), "/tmp/test_uamsg.XXXXXX");
	if (mkdtemp(dir) == NULL) {
		printf("Bail out! mkdtemp\n");
		return 1;
	}
	T_EQ_INT(sh(GEN, dir, ""), 0, "openssl made a CA and three keys");
	sk = cms_signing_key_load(path("alice.pem"), path("alice.key"), NULL,
	    0, err, sizeof(err));
	T_OK(sk != NULL, "signing key loaded");
	ca[0] = path("ca.pem");
	trust = cms_keys_load(NULL, NULL, 0, ca, 1, NULL, 0, err, sizeof(err));
	T_OK(trust != NULL, "trust anchor loaded");
	if (sk != NULL && trust != NULL) {
		test_plain_and_signed(sk, trust);
		test_encrypted(sk, trust);
		test_receive(sk);
		test_refusals();
	}
	cms_signing_key_free(sk);
	cms_keys_free(trust);
	if (t_failed == 0)
		sh("rm -rf '%s'%s", dir, "");
	else
		printf("# kept %s\n", dir);
	return t_done();
}
