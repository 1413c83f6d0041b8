/* test_flowtoken.c - RFC 5626 flow tokens: round trip, and every kind of
 * damage refused. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>

#include "proxyd/flowtoken.h"
#include "t.h"

static const char key[] = "0123456789abcdef0123456789abcdef";
#define KL (sizeof(key) - 1)

static struct flow_addr
v4(enum flow_kind k, uint64_t id, const char *ip, unsigned port)
{
	struct flow_addr f;
	struct sockaddr_in *s = (void *)&f.peer;

	memset(&f, 0, sizeof(f));
	f.kind = k;
	f.id = id;
	s->sin_family = AF_INET;
	inet_pton(AF_INET, ip, &s->sin_addr);
	s->sin_port = htons((uint16_t)port);
	return f;
}

static int
same(const struct flow_addr *a, const struct flow_addr *b)
{
	size_t n = a->peer.ss_family == AF_INET ? sizeof(struct sockaddr_in) :
	    sizeof(struct sockaddr_in6);

	return a->kind == b->kind && a->id == b->id &&
	    memcmp(&a->peer, &b->peer, n) == 0;
}

int
main(void)
{
	struct flow_addr f = v4(FLOW_TCP, 0x0102030405060708ULL, "192.0.2.7",
	    5060), g, h;
	struct sockaddr_in6 *s6 = (void *)&h.peer;
	char tok[FLOWTOKEN_LEN + 1], bad[FLOWTOKEN_LEN + 2];
	const char *alpha = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	    "0123456789-_";
	size_t i;
	int all = 1;

	T_OK(flowtoken_encode(key, KL, &f, tok) == 0, "encode");
	T_EQ_INT((int)strlen(tok), FLOWTOKEN_LEN, "55 characters");
	T_OK(strspn(tok, alpha) == FLOWTOKEN_LEN,
	    "base64url only: a valid URI user part");
	T_OK(flowtoken_decode(key, KL, tok, strlen(tok), &g) == 0 &&
	    same(&f, &g), "decodes to the same flow");

	memset(&h, 0, sizeof(h));
	h.kind = FLOW_UDP;
	s6->sin6_family = AF_INET6;
	inet_pton(AF_INET6, "2001:db8::1", &s6->sin6_addr);
	s6->sin6_port = htons(40000);
	T_OK(flowtoken_encode(key, KL, &h, tok) == 0 &&
	    flowtoken_decode(key, KL, tok, strlen(tok), &g) == 0 &&
	    same(&h, &g), "IPv6 UDP flow round trip");

	flowtoken_encode(key, KL, &f, tok);
	T_OK(flowtoken_decode("another key, just as long......", KL, tok,
	    strlen(tok), &g) != 0, "another key: refused");
	T_OK(flowtoken_decode(key, KL, tok, strlen(tok) - 1, &g) != 0,
	    "one character short: refused");
	memcpy(bad, tok, sizeof(tok));
	bad[FLOWTOKEN_LEN] = 'A';
	bad[FLOWTOKEN_LEN + 1] = '\0';
	T_OK(flowtoken_decode(key, KL, bad, strlen(bad), &g) != 0,
	    "one character long: refused");
	/* Every single-character change anywhere: fields and MAC alike. */
	for (i = 0; i < FLOWTOKEN_LEN; i++) {
		memcpy(bad, tok, sizeof(tok));
		bad[i] = bad[i] == 'A' ? 'B' : 'A';
		if (flowtoken_decode(key, KL, bad, FLOWTOKEN_LEN, &g) == 0)
			all = 0;
	}
	T_OK(all, "any one character changed: refused");
	memcpy(bad, tok, sizeof(tok));
	bad[3] = '+';
	T_OK(flowtoken_decode(key, KL, bad, FLOWTOKEN_LEN, &g) != 0,
	    "a character outside base64url: refused");
	memcpy(bad, tok, sizeof(tok));
	bad[10] = '\0';
	T_OK(flowtoken_decode(key, KL, bad, FLOWTOKEN_LEN, &g) != 0,
	    "a NUL inside: refused");
	f.peer.ss_family = AF_UNIX;
	T_OK(flowtoken_encode(key, KL, &f, tok) != 0,
	    "a non-IP address cannot be encoded");
	T_EQ_STR(flow_kind_name(FLOW_TLS), "tls", "kind names");
	return t_done();
}
