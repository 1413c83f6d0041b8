/*
 * challenge_speed.c - the C half of bench/challenge_speed.sh: signed 496
 * challenges per second through the whole proxy against the raw CMS_sign
 * rate on one core, and plain calls' latency beside a challenge flood. Three
 * modes:
 *
 *   challenge_speed sign -t SECS DIR
 *       Signing rates on the calling thread (pin it with taskset), each
 *       figure SECS of back-to-back operations over DIR/signed_part.bin,
 *       the signed part (MIME headers included) of a 496 the proxy really
 *       sent: raw OpenSSL CMS_sign (detached, binary, no chain: what the
 *       proxy's challenge key is configured with) + i2d; our cms_sign();
 *       and challenge_build() (sipfrag, certificate, boundaries,
 *       cms_sign(), the multipart/signed body) on header values of the
 *       same sizes. ECDSA P-256 (DIR/chal_ec.{pem,key}) and RSA-2048
 *       (DIR/chal_rsa.{pem,key}); DIR/proxy.pem is the certificate handed
 *       out. One line per figure: "NAME OPS_PER_S" (per second of wall
 *       time) and "NAME_cpu OPS_PER_S" (per second of thread CPU time).
 *
 *   challenge_speed flood -s ADDR:PORT -l ADDR:PORT -k KIND -t SECS
 *                         [-W WARMUP] [-n INFLIGHT] [-e ENV.der]
 *                         [-P PROXY_PID] [-d DUMPDIR] [-m MAX] [-R RATE]
 *       A closed-loop UDP load generator: INFLIGHT requests (MESSAGE)
 *       outstanding, a new one sent for each final response; a request
 *       unanswered for 1 s is counted lost and replaced. KIND picks the
 *       From user (the proxy's policy rule) and the body:
 *         closed     From "closed", body ENV.der as application/pkcs7-mime
 *                    enveloped-data, no label (rule: open_unlabelled =
 *                    false, so the proxy answers 496 without trying)
 *         tried      From "tried", the same body (rule: open_unlabelled
 *                    = true: one decryption attempt, then 496)
 *         html       From "closed", a visible text/html body (a missing
 *                    PRMB type: 403, no signature, the same SIP path)
 *         integrity  From "integrity", a visible text/plain body (rule:
 *                    require_integrity: a signed 495)
 *         invite     an INVITE from "closed" with the ENV.der body (rule:
 *                    INVITE requires application/sdp, not opened: 496);
 *                    each final response is ACKed as RFC 3261 17.1.1.3
 *                    says
 *       Final responses are counted by status over SECS after WARMUP
 *       (default 0.3 s). With -P, the proxy's CPU time (utime + stime
 *       from /proc) and minor page faults over the window are reported
 *       too. With -d, the first
 *       signed challenge is split into DUMPDIR/response.bin,
 *       signed_part.bin (part 1 of the multipart/signed, headers
 *       included) and sig.der (the binary signature part). -m stops after
 *       MAX final responses. -R RATE sends RATE requests a second,
 *       evenly paced, whether answered or not (an open loop, as a flood
 *       from one address is; slots are reused round-robin, nothing is
 *       counted lost). One output line of "key value" pairs.
 *
 *   challenge_speed calls -s PROXY:PORT -l ADDR:PORT -u UAS_URI [-r RATE]
 *                         [-t SECS]
 *       A UAC placing RATE calls/s (open loop) for SECS through the proxy
 *       to UAS_URI (a SIPp UAS): INVITE, 200, ACK and, 100 ms later, BYE
 *       and its 200, following the Record-Route; retransmissions after
 *       0.5, 1 and 2 s, a call failed after 4 s. Response times INVITE ->
 *       200 and BYE -> 200 in ms (median, p90, p99, max) on one line;
 *       exit status 1 when a call failed.
 */
#define _GNU_SOURCE /* strcasestr, asprintf */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <openssl/cms.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "e2m/challenge.h"
#include "crypto/cms.h"

#include "benchutil.h"


static void
spit(const char *file, const void *p, size_t len)
{
	FILE *f = fopen(file, "wb");

	if (f == NULL || fwrite(p, 1, len, f) != len || fclose(f) != 0) {
		fprintf(stderr, "challenge_speed: cannot write %s\n", file);
		exit(1);
	}
}

/* ---- sign ---- */

struct signer {
	const char *tag;
	X509 *cert;
	EVP_PKEY *key;
	struct cms_signing_key *sk;
};

static uint8_t *part, *cert_der;
static size_t part_len, cert_der_len;
static struct challenge_in chin;

typedef int op_fn(struct signer *s);

static int
raw_sign(struct signer *s)
{
	CMS_ContentInfo *cms;
	BIO *data;
	unsigned char *der = NULL;
	int n = -1;

	if ((data = BIO_new_mem_buf(part, (int)part_len)) == NULL)
		return -1;
	cms = CMS_sign(s->cert, s->key, NULL, data, CMS_BINARY | CMS_DETACHED);
	if (cms != NULL)
		n = i2d_CMS_ContentInfo(cms, &der);
	OPENSSL_free(der);
	CMS_ContentInfo_free(cms);
	BIO_free(data);
	return n > 0 ? 0 : -1;
}

static int
mod_sign(struct signer *s)
{
	uint8_t *der;
	size_t len;

	if (cms_sign(s->sk, part, part_len, true, &der, &len) != CMS_OK)
		return -1;
	free(der);
	return 0;
}

static int
build(struct signer *s)
{
	struct challenge_out out;
	const char *why;

	chin.sk = s->sk;
	if (challenge_build(&chin, &out, &why) != CHALLENGE_OK) {
		fprintf(stderr, "challenge_speed: challenge_build: %s\n", why);
		return -1;
	}
	challenge_out_free(&out);
	return 0;
}

/* Operations per second of wall time; *cpu_rate: per second of this
 * thread's CPU time (the same when the CPU is not shared). */
static double
measure(op_fn *op, struct signer *s, double secs, const char *name,
    double *cpu_rate)
{
	double t0, t, c0;
	unsigned long n = 0;

	if (op(s) != 0) /* warm-up and correctness check */
		die(name);
	t0 = now();
	c0 = clock_s(CLOCK_THREAD_CPUTIME_ID);
	do {
		if (op(s) != 0)
			die(name);
		n++;
	} while ((t = now()) - t0 < secs);
	*cpu_rate = (double)n / (clock_s(CLOCK_THREAD_CPUTIME_ID) - c0);
	return (double)n / (t - t0);
}

static void
load_signer(struct signer *s)
{
	char c[64], k[64], err[256];
	FILE *f;

	snprintf(c, sizeof(c), "chal_%s.pem", s->tag);
	snprintf(k, sizeof(k), "chal_%s.key", s->tag);
	if ((f = fopen(path(c), "r")) == NULL ||
	    (s->cert = PEM_read_X509(f, NULL, NULL, NULL)) == NULL)
		die(c);
	fclose(f);
	if ((f = fopen(path(k), "r")) == NULL ||
	    (s->key = PEM_read_PrivateKey(f, NULL, NULL, NULL)) == NULL)
		die(k);
	fclose(f);
	if ((s->sk = cms_signing_key_load(path(c), path(k), NULL, 0, err,
	    sizeof(err))) == NULL) {
		fprintf(stderr, "challenge_speed: %s\n", err);
		exit(1);
	}
}

/* Header values of the sizes a 496 to a flood MESSAGE carries. */
static void
fake_headers(void)
{
	static struct challenge_text via[1], warn[1];
	char err[256];

	via[0] = challenge_text("SIP/2.0/UDP 127.0.0.1:26010;"
	    "branch=z9hG4bK-e2mb-closed-12-3456;rport=26010");
	warn[0] = challenge_text("380 127.0.0.1:26000 \"Required to View "
	    "Content-Type 'text/plain'\"");
	chin.status = 496;
	chin.reason = challenge_text("Proxy Undecipherable");
	chin.via = via;
	chin.nvia = 1;
	chin.from = challenge_text("<sip:closed@example.com>;tag=f12");
	chin.to = challenge_text("<sip:bob@example.com>;"
	    "tag=bdc87a3c6a03b2e1b39d3a4a12a39e3a");
	chin.call_id = challenge_text("e2mb-closed-12-3456@127.0.0.1");
	chin.cseq = challenge_text("1 MESSAGE");
	chin.date = challenge_text("Fri, 27 Nov 2026 12:00:00 GMT");
	chin.warning = warn;
	chin.nwarning = 1;
	if (cms_cert_der_load(path("proxy.pem"), &cert_der, &cert_der_len,
	    err, sizeof(err)) != 0)
		die(err);
	chin.cert_der = cert_der;
	chin.cert_der_len = cert_der_len;
	chin.encoding = CHALLENGE_ENC_BINARY;
}

static int
sign_main(double secs)
{
	struct signer s[2] = { { .tag = "ec" }, { .tag = "rsa" } };
	size_t i;

	part = slurp(path("signed_part.bin"), &part_len);
	fake_headers();
	for (i = 0; i < 2; i++)
		load_signer(&s[i]);
	printf("openssl %s\n", OpenSSL_version(OPENSSL_VERSION));
	printf("signed_part_bytes %zu\n", part_len);
	for (i = 0; i < 2; i++) {
		double w, c;

		w = measure(raw_sign, &s[i], secs, "raw CMS_sign", &c);
		printf("raw_%s %.1f\nraw_%s_cpu %.1f\n", s[i].tag, w, s[i].tag,
		    c);
		w = measure(mod_sign, &s[i], secs, "cms_sign", &c);
		printf("mod_%s %.1f\nmod_%s_cpu %.1f\n", s[i].tag, w, s[i].tag,
		    c);
		w = measure(build, &s[i], secs, "challenge_build", &c);
		printf("build_%s %.1f\nbuild_%s_cpu %.1f\n", s[i].tag, w,
		    s[i].tag, c);
		fflush(stdout);
	}
	return 0;
}

/* ---- flood ---- */

#define MAX_INFLIGHT 16384
#define LOST_AFTER 1.0 /* seconds */

struct slot {
	unsigned long seq;
	double sent;
};

static int sock;
static struct sockaddr_in dst;
static const char *kind = "closed", *local_host;
static unsigned local_port;
static uint8_t *env;
static size_t env_len;
static struct slot slots[MAX_INFLIGHT];
static unsigned long nsent;
static unsigned run_id; /* Call-IDs and branches unique across runs */

static int
parse_addr(const char *s, struct sockaddr_in *sa, const char **host,
    unsigned *port)
{
	char h[64];
	const char *colon = strrchr(s, ':');

	if (colon == NULL || (size_t)(colon - s) >= sizeof(h))
		return -1;
	memcpy(h, s, (size_t)(colon - s));
	h[colon - s] = '\0';
	memset(sa, 0, sizeof(*sa));
	sa->sin_family = AF_INET;
	sa->sin_port = htons((uint16_t)atoi(colon + 1));
	if (inet_pton(AF_INET, h, &sa->sin_addr) != 1)
		return -1;
	if (host != NULL)
		*host = strdup(h);
	if (port != NULL)
		*port = (unsigned)atoi(colon + 1);
	return 0;
}

static int
is_invite(void)
{
	return strcmp(kind, "invite") == 0;
}

static void
send_request(unsigned i, double t)
{
	static char buf[65536];
	const char *user, *ctype, *method = is_invite() ? "INVITE" : "MESSAGE";
	const uint8_t *body;
	char contact[128] = "";
	size_t blen;
	int n;

	if (strcmp(kind, "html") == 0) {
		user = "closed";
		ctype = "text/html";
		body = (const uint8_t *)"<p>Hello from the e2mproxy bench.</p>";
		blen = strlen((const char *)body);
	} else if (strcmp(kind, "integrity") == 0) {
		user = "integrity";
		ctype = "text/plain";
		body = (const uint8_t *)"Hello from the e2mproxy bench.";
		blen = strlen((const char *)body);
	} else {
		user = is_invite() ? "closed" : kind; /* closed, tried */
		ctype = "application/pkcs7-mime; smime-type=enveloped-data; "
		    "name=smime.p7m";
		body = env;
		blen = env_len;
	}
	if (is_invite())
		snprintf(contact, sizeof(contact), "Contact: <sip:%s@%s:%u>\r\n",
		    user, local_host, local_port);
	slots[i].seq = ++nsent;
	slots[i].sent = t;
	n = snprintf(buf, sizeof(buf),
	    "%s sip:bob@example.com SIP/2.0\r\n"
	    "Via: SIP/2.0/UDP %s:%u;branch=z9hG4bK-e2mb-%s-%u-%lu-%x;rport\r\n"
	    "Max-Forwards: 70\r\n"
	    "From: <sip:%s@example.com>;tag=f%u\r\n"
	    "To: <sip:bob@example.com>\r\n"
	    "Call-ID: e2mb-%s-%u-%lu-%x@%s\r\n"
	    "CSeq: 1 %s\r\n"
	    "%s"
	    "Content-Type: %s\r\n"
	    "Content-Length: %zu\r\n\r\n",
	    method, local_host, local_port, kind, i, slots[i].seq, run_id, user,
	    i, kind, i, slots[i].seq, run_id, local_host, method, contact, ctype,
	    blen);
	if (n < 0 || (size_t)n + blen > sizeof(buf))
		die("request too large");
	memcpy(buf + n, body, blen);
	/* A full socket buffer drops the request: it is counted lost. */
	(void)sendto(sock, buf, (size_t)n + blen, 0,
	    (const struct sockaddr *)&dst, sizeof(dst));
}

/* The value of header name (full form) or its compact form c; NULL. */
static const char *
header(const char *msg, size_t hlen, const char *name, const char *c,
    size_t *vlen)
{
	const char *p = msg, *end = msg + hlen, *eol;
	size_t nl = strlen(name), cl = c ? strlen(c) : 0;

	while (p < end && (eol = memmem(p, (size_t)(end - p), "\r\n", 2))) {
		const char *v = NULL;

		if ((size_t)(eol - p) > nl && strncasecmp(p, name, nl) == 0 &&
		    (p[nl] == ':' || p[nl] == ' '))
			v = p + nl;
		else if (c && (size_t)(eol - p) > cl &&
		    strncasecmp(p, c, cl) == 0 && (p[cl] == ':' || p[cl] == ' '))
			v = p + cl;
		if (v != NULL) {
			while (v < eol && (*v == ' ' || *v == ':' || *v == '\t'))
				v++;
			*vlen = (size_t)(eol - v);
			return v;
		}
		p = eol + 2;
	}
	return NULL;
}

/* The ACK for a final response to an INVITE (RFC 3261 17.1.1.3): the
 * response's own Via, From, To (with the tag) and Call-ID. */
static void
send_ack(const char *resp, size_t hlen)
{
	static char buf[4096];
	const char *via, *from, *to, *cid;
	size_t vl, fl, tl, cl;
	int n;

	if ((via = header(resp, hlen, "Via", "v", &vl)) == NULL ||
	    (from = header(resp, hlen, "From", "f", &fl)) == NULL ||
	    (to = header(resp, hlen, "To", "t", &tl)) == NULL ||
	    (cid = header(resp, hlen, "Call-ID", "i", &cl)) == NULL)
		return;
	n = snprintf(buf, sizeof(buf),
	    "ACK sip:bob@example.com SIP/2.0\r\n"
	    "Via: %.*s\r\n"
	    "Max-Forwards: 70\r\n"
	    "From: %.*s\r\n"
	    "To: %.*s\r\n"
	    "Call-ID: %.*s\r\n"
	    "CSeq: 1 ACK\r\n"
	    "Content-Length: 0\r\n\r\n",
	    (int)vl, via, (int)fl, from, (int)tl, to, (int)cl, cid);
	if (n > 0 && (size_t)n < sizeof(buf))
		(void)sendto(sock, buf, (size_t)n, 0,
		    (const struct sockaddr *)&dst, sizeof(dst));
}

/* Split the first signed challenge into its parts (see the top). */
static void
dump(const char *ddir, const char *msg, size_t len)
{
	const char *hend = memmem(msg, len, "\r\n\r\n", 4), *ct, *b, *body;
	const char *p1, *e1, *p2, *h2, *e2;
	char bnd[128], delim[140];
	size_t ctlen, blen, dl, bodylen;

	dir = ddir;
	spit(path("response.bin"), msg, len);
	if (hend == NULL ||
	    (ct = header(msg, (size_t)(hend - msg) + 2, "Content-Type", "c",
	    &ctlen)) == NULL)
		die("dump: no Content-Type in the challenge");
	if ((b = memmem(ct, ctlen, "boundary=", 9)) == NULL)
		die("dump: no boundary");
	b += 9;
	blen = ctlen - (size_t)(b - ct);
	if (blen > 0 && *b == '"') {
		b++;
		blen = strcspn(b, "\"");
	} else {
		blen = strcspn(b, "; \r");
	}
	if (blen == 0 || blen >= sizeof(bnd) - 1)
		die("dump: bad boundary");
	memcpy(bnd, b, blen);
	bnd[blen] = '\0';
	body = hend + 4;
	bodylen = len - (size_t)(body - msg);
	dl = (size_t)snprintf(delim, sizeof(delim), "\r\n--%s", bnd);
	/* body: "--B\r\n" part1 "\r\n--B\r\n" part2 "\r\n--B--" */
	if (bodylen < dl || memcmp(body, delim + 2, dl - 2) != 0)
		die("dump: body does not start with the boundary");
	p1 = body + dl - 2 + 2;
	if ((e1 = memmem(p1, bodylen - (size_t)(p1 - body), delim, dl)) ==
	    NULL)
		die("dump: no second part");
	spit(path("signed_part.bin"), p1, (size_t)(e1 - p1));
	p2 = e1 + dl + 2;
	if ((h2 = memmem(p2, bodylen - (size_t)(p2 - body), "\r\n\r\n", 4)) ==
	    NULL || (e2 = memmem(h2, bodylen - (size_t)(h2 - body), delim,
	    dl)) == NULL)
		die("dump: bad signature part");
	spit(path("sig.der"), h2 + 4, (size_t)(e2 - (h2 + 4)));
}

/* CPU seconds (utime + stime) of a process; *minflt: its minor faults. */
static double
proc_cpu(long pid, unsigned long *minflt)
{
	char f[64], buf[4096], *p;
	unsigned long ut, st, mf;
	FILE *fp;
	size_t n;

	snprintf(f, sizeof(f), "/proc/%ld/stat", pid);
	if ((fp = fopen(f, "r")) == NULL)
		return 0;
	n = fread(buf, 1, sizeof(buf) - 1, fp);
	fclose(fp);
	buf[n] = '\0';
	/* After "(comm)": state is field 3, utime 14, stime 15. */
	if ((p = strrchr(buf, ')')) == NULL ||
	    sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %lu %*u %*u %*u %lu %lu",
	    &mf, &ut, &st) != 3)
		return 0;
	*minflt = mf;
	return (double)(ut + st) / (double)sysconf(_SC_CLK_TCK);
}

static int
flood_main(int argc, char **argv)
{
	const char *server = NULL, *local = "127.0.0.1:26010", *envf = NULL;
	const char *ddir = NULL;
	double secs = 3, warm = 0.3, t0, t1, tend, t, lastscan, c0 = 0, c1 = 0;
	double m0 = 0, m1 = 0, lat_sum = 0, pace = 0, tstart;
	unsigned long paced = 0;
	unsigned inflight = 32, i;
	unsigned long counts[700] = { 0 }, total = 0, lost = 0, max = 0;
	unsigned long other = 0, lat_n = 0, f0 = 0, f1 = 0;
	long pid = 0;
	int ch, counting = 0, dumped = 0;
	struct sockaddr_in la;
	int rcvbuf = 4 << 20;
	static char buf[65536];

	while ((ch = getopt(argc, argv, "s:l:k:t:W:n:e:P:d:m:R:")) != -1) {
		switch (ch) {
		case 's': server = optarg; break;
		case 'l': local = optarg; break;
		case 'k': kind = optarg; break;
		case 't': secs = atof(optarg); break;
		case 'W': warm = atof(optarg); break;
		case 'n': inflight = (unsigned)atoi(optarg); break;
		case 'e': envf = optarg; break;
		case 'P': pid = atol(optarg); break;
		case 'd': ddir = optarg; break;
		case 'm': max = strtoul(optarg, NULL, 10); break;
		case 'R': pace = atof(optarg); break;
		default: die("flood: bad option");
		}
	}
	if (server == NULL || parse_addr(server, &dst, NULL, NULL) != 0 ||
	    parse_addr(local, &la, &local_host, &local_port) != 0 ||
	    inflight == 0 || inflight > MAX_INFLIGHT || secs <= 0)
		die("usage: flood -s ADDR:PORT -l ADDR:PORT -k KIND -t SECS ...");
	if (strcmp(kind, "closed") && strcmp(kind, "tried") &&
	    strcmp(kind, "html") && strcmp(kind, "integrity") && !is_invite())
		die("flood: KIND is closed, tried, html, integrity or invite");
	if ((strcmp(kind, "closed") == 0 || strcmp(kind, "tried") == 0 ||
	    is_invite()) && envf == NULL)
		die("flood: -e ENV.der needed for this kind");
	if (envf != NULL)
		env = slurp(envf, &env_len);
	run_id = (unsigned)getpid() ^ (unsigned)(now() * 1e3);
	if ((sock = socket(AF_INET, SOCK_DGRAM, 0)) < 0 ||
	    setsockopt(sock, SOL_SOCKET, SO_RCVBUF, &rcvbuf,
	    sizeof(rcvbuf)) != 0 ||
	    bind(sock, (struct sockaddr *)&la, sizeof(la)) != 0 ||
	    fcntl(sock, F_SETFL, O_NONBLOCK) != 0) {
		fprintf(stderr, "challenge_speed: socket %s: %s\n", local,
		    strerror(errno));
		exit(1);
	}

	t = now();
	t0 = t + warm;
	t1 = t0 + secs;
	tend = t1;
	lastscan = t;
	tstart = t;
	if (pace <= 0)
		for (i = 0; i < inflight; i++)
			send_request(i, t);
	while ((t = now()) < tend) {
		struct pollfd pfd = { .fd = sock, .events = POLLIN };
		ssize_t n;

		/* Open loop: catch up with the schedule, a slot at a time. */
		while (pace > 0 && paced < (unsigned long)((t - tstart) * pace))
			send_request((unsigned)(paced++ % inflight), t);

		if (!counting && t >= t0) {
			counting = 1;
			c0 = pid ? proc_cpu(pid, &f0) : 0;
			m0 = clock_s(CLOCK_PROCESS_CPUTIME_ID);
			t0 = t;
		}
		(void)poll(&pfd, 1, pace > 0 ? 1 : 10);
		while ((n = recv(sock, buf, sizeof(buf) - 1, 0)) > 0) {
			const char *cid, *hend;
			size_t clen;
			unsigned slot, status, rid;
			unsigned long seq;
			char kbuf[16];

			buf[n] = '\0';
			if (strncmp(buf, "SIP/2.0 ", 8) != 0)
				continue;
			status = (unsigned)atoi(buf + 8);
			if (status < 200 || status > 699)
				continue;
			hend = memmem(buf, (size_t)n, "\r\n\r\n", 4);
			if (hend != NULL && is_invite())
				send_ack(buf, (size_t)(hend - buf) + 2);
			if (hend == NULL || (cid = header(buf, (size_t)(hend -
			    buf) + 2, "Call-ID", "i", &clen)) == NULL ||
			    sscanf(cid, "e2mb-%15[a-z]-%u-%lu-%x@", kbuf, &slot,
			    &seq, &rid) != 4 || rid != run_id ||
			    slot >= inflight || slots[slot].seq != seq)
				continue; /* late: its slot moved on */
			t = now();
			if (counting) {
				counts[status]++;
				total++;
				lat_sum += t - slots[slot].sent;
				lat_n++;
			}
			if (ddir != NULL && !dumped &&
			    (status == 496 || status == 495)) {
				dump(ddir, buf, (size_t)n);
				dumped = 1;
			}
			if (max && total >= max) {
				tend = t;
				break;
			}
			if (pace <= 0)
				send_request(slot, t);
		}
		if (pace <= 0 && t - lastscan > 0.05) {
			lastscan = t;
			for (i = 0; i < inflight; i++)
				if (t - slots[i].sent > LOST_AFTER) {
					if (counting)
						lost++;
					send_request(i, t);
				}
		}
	}
	t1 = now();
	if (!counting) { /* -m reached during the warm-up */
		t0 = t1;
		c0 = pid ? proc_cpu(pid, &f0) : 0;
		m0 = clock_s(CLOCK_PROCESS_CPUTIME_ID);
	}
	c1 = pid ? proc_cpu(pid, &f1) : 0;
	m1 = clock_s(CLOCK_PROCESS_CPUTIME_ID);
	for (i = 200; i < 700; i++)
		if (i != 496 && i != 495 && i != 403 && i != 503)
			other += counts[i];
	printf("kind %s secs %.3f final %lu rate %.1f r496 %lu r495 %lu "
	    "r403 %lu r503 %lu other %lu lost %lu sent %lu "
	    "mean_ms %.3f proxy_cpu_s %.3f proxy_busy %.3f "
	    "proxy_us_per_resp %.1f proxy_minflt_per_resp %.2f gen_busy %.3f\n",
	    kind, t1 - t0, total, t1 > t0 ? (double)total / (t1 - t0) : 0,
	    counts[496], counts[495], counts[403], counts[503], other, lost,
	    nsent, lat_n ? lat_sum / (double)lat_n * 1e3 : 0, c1 - c0,
	    t1 > t0 ? (c1 - c0) / (t1 - t0) : 0,
	    total ? (c1 - c0) * 1e6 / (double)total : 0,
	    total ? (double)(f1 - f0) / (double)total : 0,
	    t1 > t0 ? (m1 - m0) / (t1 - t0) : 0);
	if (ddir != NULL && !dumped) {
		fprintf(stderr, "challenge_speed: no signed challenge to dump\n");
		return 1;
	}
	return 0;
}


/* ---- calls: plain INVITE/200/ACK/BYE/200 with microsecond timing ---- */

#define MAX_CALLS 100000

struct call {
	int state;          /* 0 unused, 1 INVITE sent, 2 in call, 3 BYE
	                       sent, 4 done, 5 failed */
	double t_inv, t_bye, last_tx, bye_at;
	int tries;
	/* Room for a Route set of flow tokens (edge proxies, RFC 5626)
	 * and a Record-Route per side (RFC 5658). */
	char to[256], route[1536], contact[256];
};

static struct call *calls;
static double *rtd_inv, *rtd_bye;
static unsigned long fail_status, fail_dialog, fail_timeout;

/* A failed call, counted by why; the first of each kind said on stderr
 * (a run that fails every call must say why, not only how many). */
static void
call_failed(unsigned long *count, const char *why, const char *msg)
{
	size_t n = strcspn(msg, "\r\n");

	if ((*count)++ == 0)
		fprintf(stderr, "challenge_speed: a call failed: %s: %.*s\n",
		    why, (int)(n > 200 ? 200 : n), msg);
}
static unsigned long n_inv, n_bye;
static const char *uas_uri;

static void
send_str(const char *m, size_t len)
{
	(void)sendto(sock, m, len, 0, (const struct sockaddr *)&dst,
	    sizeof(dst));
}

static void
call_send(unsigned i, const char *method)
{
	static const char sdp[] = "v=0\r\no=user1 53655765 2353687637 IN IP4 "
	    "127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n"
	    "m=audio 26090 RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n";
	struct call *c = &calls[i];
	char buf[4096];
	int n;

	if (strcmp(method, "INVITE") == 0)
		n = snprintf(buf, sizeof(buf),
		    "INVITE %s SIP/2.0\r\n"
		    "Via: SIP/2.0/UDP %s:%u;branch=z9hG4bK-e2mc-%x-%u-inv;rport\r\n"
		    "Max-Forwards: 70\r\n"
		    "From: <sip:caller@example.com>;tag=c%u\r\n"
		    "To: <%s>\r\n"
		    "Call-ID: e2mc-%x-%u@%s\r\n"
		    "CSeq: 1 INVITE\r\n"
		    "Contact: <sip:caller@%s:%u>\r\n"
		    "Content-Type: application/sdp\r\n"
		    "Content-Length: %zu\r\n\r\n%s",
		    uas_uri, local_host, local_port, run_id, i, i, uas_uri,
		    run_id, i, local_host, local_host, local_port, strlen(sdp), sdp);
	else
		n = snprintf(buf, sizeof(buf),
		    "%s %s SIP/2.0\r\n"
		    "Via: SIP/2.0/UDP %s:%u;branch=z9hG4bK-e2mc-%x-%u-%s;rport\r\n"
		    "Max-Forwards: 70\r\n"
		    "%s"
		    "From: <sip:caller@example.com>;tag=c%u\r\n"
		    "To: %s\r\n"
		    "Call-ID: e2mc-%x-%u@%s\r\n"
		    "CSeq: %s\r\n"
		    "Content-Length: 0\r\n\r\n",
		    method, c->contact, local_host, local_port, run_id, i,
		    method[0] == 'A' ? "ack" : "bye", c->route, i, c->to,
		    run_id, i, local_host, method[0] == 'A' ? "1 ACK" : "2 BYE");
	if (n < 0 || (size_t)n >= sizeof(buf))
		die("call message too large");
	send_str(buf, (size_t)n);
}

/* From a 200 to the INVITE: To with tag, Contact URI, Route set. */
static int
learn_dialog(struct call *c, const char *msg, size_t hlen)
{
	const char *v, *p = msg, *end = msg + hlen, *eol, *lt, *gt;
	char rr[8][384];
	size_t vl, n = 0, i;
	int off = 0;

	if ((v = header(msg, hlen, "To", "t", &vl)) == NULL ||
	    vl >= sizeof(c->to))
		return -1;
	memcpy(c->to, v, vl);
	c->to[vl] = '\0';
	if ((v = header(msg, hlen, "Contact", "m", &vl)) == NULL ||
	    (lt = memchr(v, '<', vl)) == NULL ||
	    (gt = memchr(lt, '>', vl - (size_t)(lt - v))) == NULL ||
	    (size_t)(gt - lt - 1) >= sizeof(c->contact))
		return -1;
	memcpy(c->contact, lt + 1, (size_t)(gt - lt - 1));
	c->contact[gt - lt - 1] = '\0';
	/* Record-Route lines in order, reversed into Route (one value per
	 * line: what this proxy and SIPp's echo produce). */
	while (p < end && (eol = memmem(p, (size_t)(end - p), "\r\n", 2))) {
		if (strncasecmp(p, "Record-Route:", 13) == 0 && n < 8) {
			const char *s = p + 13;

			while (*s == ' ')
				s++;
			if ((size_t)(eol - s) >= sizeof(rr[0]))
				return -1;
			memcpy(rr[n], s, (size_t)(eol - s));
			rr[n][eol - s] = '\0';
			n++;
		}
		p = eol + 2;
	}
	c->route[0] = '\0';
	for (i = n; i-- > 0;)
		off += snprintf(c->route + off, sizeof(c->route) - (size_t)off,
		    "Route: %s\r\n", rr[i]);
	return (size_t)off < sizeof(c->route) ? 0 : -1;
}

static void
report(const char *name, double *v, unsigned long n)
{
	if (n == 0) {
		printf(" %s_n 0", name);
		return;
	}
	qsort(v, n, sizeof(*v), cmp_double);
	printf(" %s_n %lu %s_p50 %.2f %s_p90 %.2f %s_p99 %.2f %s_max %.2f",
	    name, n, name, v[(n - 1) / 2] * 1e3, name,
	    v[(size_t)((double)(n - 1) * 0.90 + 0.5)] * 1e3, name,
	    v[(size_t)((double)(n - 1) * 0.99 + 0.5)] * 1e3, name,
	    v[n - 1] * 1e3);
}

static int
calls_main(int argc, char **argv)
{
	const char *server = NULL, *local = "127.0.0.1:26022";
	double rate = 50, secs = 10, hold = 0.1, t, tstart, next;
	unsigned long ncalls, started = 0, done = 0, failed = 0, retrans = 0;
	struct sockaddr_in la;
	int ch;
	unsigned i, rid;
	static char buf[65536];

	while ((ch = getopt(argc, argv, "s:l:u:r:t:")) != -1) {
		switch (ch) {
		case 's': server = optarg; break;
		case 'l': local = optarg; break;
		case 'u': uas_uri = optarg; break;
		case 'r': rate = atof(optarg); break;
		case 't': secs = atof(optarg); break;
		default: die("calls: bad option");
		}
	}
	if (server == NULL || uas_uri == NULL || rate <= 0 || secs <= 0 ||
	    parse_addr(server, &dst, NULL, NULL) != 0 ||
	    parse_addr(local, &la, &local_host, &local_port) != 0)
		die("usage: calls -s PROXY:PORT -l ADDR:PORT -u UAS_URI "
		    "[-r RATE] [-t SECS]");
	run_id = (unsigned)getpid() ^ (unsigned)(now() * 1e3);
	ncalls = (unsigned long)(rate * secs);
	if (ncalls == 0 || ncalls > MAX_CALLS)
		die("calls: 1 to 100000 calls");
	calls = calloc(ncalls, sizeof(*calls));
	rtd_inv = calloc(ncalls, sizeof(double));
	rtd_bye = calloc(ncalls, sizeof(double));
	if (calls == NULL || rtd_inv == NULL || rtd_bye == NULL)
		die("out of memory");
	if ((sock = socket(AF_INET, SOCK_DGRAM, 0)) < 0 ||
	    bind(sock, (struct sockaddr *)&la, sizeof(la)) != 0 ||
	    fcntl(sock, F_SETFL, O_NONBLOCK) != 0) {
		fprintf(stderr, "challenge_speed: socket %s: %s\n", local,
		    strerror(errno));
		exit(1);
	}
	tstart = now();
	next = tstart;
	for (;;) {
		struct pollfd pfd = { .fd = sock, .events = POLLIN };
		ssize_t n;
		double wait;

		t = now();
		while (started < ncalls && t >= next) {
			i = (unsigned)started++;
			calls[i].state = 1;
			calls[i].t_inv = calls[i].last_tx = t;
			call_send(i, "INVITE");
			next = tstart + (double)started / rate;
		}
		if (done + failed == ncalls)
			break;
		wait = started < ncalls ? next - t : 0.002;
		if (wait > 0.002)
			wait = 0.002;
		(void)poll(&pfd, 1, wait > 0 ? (int)(wait * 1e3) : 0);
		while ((n = recv(sock, buf, sizeof(buf) - 1, 0)) > 0) {
			const char *hend, *v;
			size_t vl;
			unsigned status;
			struct call *c;

			t = now();
			buf[n] = '\0';
			if (strncmp(buf, "SIP/2.0 ", 8) != 0)
				continue;
			status = (unsigned)atoi(buf + 8);
			if ((hend = memmem(buf, (size_t)n, "\r\n\r\n", 4)) ==
			    NULL || (v = header(buf, (size_t)(hend - buf) + 2,
			    "Call-ID", "i", &vl)) == NULL ||
			    sscanf(v, "e2mc-%x-%u@", &rid, &i) != 2 ||
			    rid != run_id || i >= started)
				continue;
			c = &calls[i];
			v = header(buf, (size_t)(hend - buf) + 2, "CSeq", NULL,
			    &vl);
			if (v == NULL || status < 200)
				continue;
			if (strncmp(v, "1 INVITE", 8) == 0) {
				if (status >= 300) {
					if (c->state == 1) {
						c->state = 5;
						failed++;
						call_failed(&fail_status,
						    "final response", buf);
					}
					continue;
				}
				if (c->state == 1) {
					if (learn_dialog(c, buf, (size_t)(hend -
					    buf) + 2) != 0) {
						c->state = 5;
						failed++;
						call_failed(&fail_dialog, "no dialog "
						    "from this 200 (To, Contact, "
						    "Record-Route too long?)", buf);
						continue;
					}
					rtd_inv[n_inv++] = t - c->t_inv;
					c->state = 2;
					c->bye_at = t + hold;
				}
				if (c->state >= 2 && c->state <= 4)
					call_send(i, "ACK"); /* 2xx retransmits too */
			} else if (strncmp(v, "2 BYE", 5) == 0 && c->state == 3) {
				if (status < 300)
					rtd_bye[n_bye++] = t - c->t_bye;
				c->state = 4;
				done++;
			}
		}
		/* BYEs due, retransmissions (500 ms, then 1 s, 2 s), give up
		 * after 4 s. */
		t = now();
		for (i = 0; i < started; i++) {
			struct call *c = &calls[i];

			if (c->state == 2 && t >= c->bye_at) {
				c->state = 3;
				c->t_bye = c->last_tx = t;
				c->tries = 0;
				call_send(i, "BYE");
			} else if ((c->state == 1 || c->state == 3) &&
			    t - c->last_tx > 0.5 * (double)(1 << c->tries)) {
				double t0 = c->state == 1 ? c->t_inv : c->t_bye;

				if (t - t0 > 4) {
					call_failed(&fail_timeout, "no final "
					    "response within 4 s to", c->state ==
					    1 ? "INVITE" : "BYE");
					c->state = 5;
					failed++;
					continue;
				}
				c->tries++;
				c->last_tx = t;
				retrans++;
				call_send(i, c->state == 1 ? "INVITE" : "BYE");
			}
		}
	}
	printf("calls %lu ok %lu failed %lu retrans %lu secs %.2f "
	    "failed_final %lu failed_dialog %lu failed_timeout %lu", ncalls,
	    done, failed, retrans, now() - tstart, fail_status, fail_dialog,
	    fail_timeout);
	report("inv", rtd_inv, n_inv);
	report("bye", rtd_bye, n_bye);
	printf("\n");
	return failed ? 1 : 0;
}

int
main(int argc, char **argv)
{
	prog = "challenge_speed";
	if (argc >= 2 && strcmp(argv[1], "sign") == 0) {
		double secs = 1;
		int ch;

		argc--;
		argv++;
		while ((ch = getopt(argc, argv, "t:")) != -1) {
			if (ch != 't')
				die("usage: sign [-t SECS] DIR");
			secs = atof(optarg);
		}
		if (optind + 1 != argc || secs <= 0)
			die("usage: sign [-t SECS] DIR");
		dir = argv[optind];
		return sign_main(secs);
	}
	if (argc >= 2 && strcmp(argv[1], "calls") == 0)
		return calls_main(argc - 1, argv + 1);
	if (argc >= 2 && strcmp(argv[1], "flood") == 0) {
		return flood_main(argc - 1, argv + 1);
	}
	fprintf(stderr, "usage: challenge_speed sign [-t SECS] DIR\n"
	    "       challenge_speed flood -s ADDR:PORT -l ADDR:PORT -k KIND "
	    "-t SECS [-W WARMUP] [-n INFLIGHT] [-e ENV.der] [-P PID] [-R RATE] "
	    "[-d DUMPDIR] [-m MAX]\n"
	    "       challenge_speed calls -s PROXY:PORT -l ADDR:PORT -u UAS_URI "
	    "[-r RATE] [-t SECS]\n");
	return 2;
}
