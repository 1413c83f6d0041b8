/* connlimit.c - connections per source address (connlimit.h). */
#include "proxyd/sofia/connlimit.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "common/monoclock.h"

/* Descriptors from this number up are not counted (hdrguard.c's bound:
 * the unit's LimitNOFILE). */
#define MAX_FD 65536
#define NBUCKETS 4096
/* At most one log line this often while refusals go on. */
#define LOG_EVERY_MS 10000

struct source {
	struct source *next;
	unsigned char addr[16]; /* IPv4 as v4-mapped IPv6 */
	unsigned n;
};

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
/* Read unlocked by close() on any thread: 0 costs it nothing. */
static atomic_uint limit;
static struct source **buckets;
static struct source **by_fd; /* the source each counted fd is from */
static uint64_t refused, logged, last_log;

int
connlimit_init(unsigned per_source)
{
	connlimit_reset();
	if (per_source == 0)
		return 0;
	pthread_mutex_lock(&mu);
	buckets = calloc(NBUCKETS, sizeof(*buckets));
	by_fd = calloc(MAX_FD, sizeof(*by_fd));
	if (buckets != NULL && by_fd != NULL)
		atomic_store(&limit, per_source);
	pthread_mutex_unlock(&mu);
	if (atomic_load(&limit) == 0) {
		connlimit_reset();
		return -1;
	}
	return 0;
}

void
connlimit_reset(void)
{
	struct source *s, *next;
	size_t i;

	pthread_mutex_lock(&mu);
	for (i = 0; buckets != NULL && i < NBUCKETS; i++)
		for (s = buckets[i]; s != NULL; s = next) {
			next = s->next;
			free(s);
		}
	free(buckets);
	free(by_fd);
	buckets = NULL;
	by_fd = NULL;
	atomic_store(&limit, 0);
	pthread_mutex_unlock(&mu);
}

/* The address as 16 bytes (IPv4 v4-mapped); -1 for other families. */
static int
key_of(const struct sockaddr *sa, unsigned char key[16])
{
	if (sa->sa_family == AF_INET) {
		memset(key, 0, 10);
		key[10] = key[11] = 0xff;
		memcpy(key + 12, &((const struct sockaddr_in *)(const void *)
		    sa)->sin_addr, 4);
		return 0;
	}
	if (sa->sa_family == AF_INET6) {
		memcpy(key, &((const struct sockaddr_in6 *)(const void *)
		    sa)->sin6_addr, 16);
		return 0;
	}
	return -1;
}

static size_t
bucket_of(const unsigned char key[16])
{
	uint64_t h = 0xcbf29ce484222325ULL;
	int i;

	for (i = 0; i < 16; i++)
		h = (h ^ key[i]) * 0x100000001b3ULL;
	return (size_t)(h % NBUCKETS);
}

/* The entry of key, made when absent (NULL without memory). Under mu. */
static struct source *
source_of(const unsigned char key[16])
{
	struct source **b = &buckets[bucket_of(key)], *s;

	for (s = *b; s != NULL; s = s->next)
		if (memcmp(s->addr, key, 16) == 0)
			return s;
	if ((s = calloc(1, sizeof(*s))) == NULL)
		return NULL;
	memcpy(s->addr, key, 16);
	s->next = *b;
	*b = s;
	return s;
}

/* Under mu: the entry goes when its last connection does. */
static void
release(struct source *s)
{
	struct source **p;

	if (--s->n > 0)
		return;
	for (p = &buckets[bucket_of(s->addr)]; *p != s; p = &(*p)->next)
		;
	*p = s->next;
	free(s);
}

/* A warning naming the address, at most every LOG_EVERY_MS. Under mu
 * (loop thread: the log is not written from two threads at once). */
static void
report(const unsigned char key[16])
{
	uint64_t now = monoclock_coarse_ms();
	char text[INET6_ADDRSTRLEN];
	int v4 = memcmp(key, "\0\0\0\0\0\0\0\0\0\0\xff\xff", 12) == 0;

	if (last_log != 0 && now - last_log < LOG_EVERY_MS)
		return;
	inet_ntop(v4 ? AF_INET : AF_INET6, v4 ? key + 12 : key, text,
	    sizeof(text));
	log_warnx("connections over sip.max_connections_per_source (%u) "
	    "closed as accepted: %llu since the last report, the last from %s",
	    atomic_load(&limit), (unsigned long long)(refused - logged), text);
	logged = refused;
	last_log = now;
}

int
connlimit_admit(int fd, const struct sockaddr *peer)
{
	unsigned char key[16];
	struct source *s;
	int keep = 1;

	if (atomic_load(&limit) == 0 || fd < 0 || fd >= MAX_FD ||
	    peer == NULL ||
	    key_of(peer, key) != 0)
		return 1;
	pthread_mutex_lock(&mu);
	if (by_fd[fd] != NULL) /* closed behind our back: recount */
		release(by_fd[fd]);
	by_fd[fd] = NULL;
	if ((s = source_of(key)) == NULL) {
		/* Out of memory: let it in uncounted rather than refuse. */
	} else if (s->n >= atomic_load(&limit)) {
		refused++;
		keep = 0;
		report(key);
	} else {
		s->n++;
		by_fd[fd] = s;
	}
	pthread_mutex_unlock(&mu);
	return keep;
}

void
connlimit_closed(int fd)
{
	if (atomic_load(&limit) == 0 || fd < 0 || fd >= MAX_FD)
		return;
	pthread_mutex_lock(&mu);
	if (by_fd != NULL && by_fd[fd] != NULL) {
		release(by_fd[fd]);
		by_fd[fd] = NULL;
	}
	pthread_mutex_unlock(&mu);
}

uint64_t
connlimit_refused(void)
{
	uint64_t n;

	pthread_mutex_lock(&mu);
	n = refused;
	pthread_mutex_unlock(&mu);
	return n;
}
