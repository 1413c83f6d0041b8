/*
 * archive_speed.c - the C half of bench/archive_speed.sh: archive records
 * through archwriter on this machine's disk, as the proxy would hand them
 * over, with group commit or one fdatasync per record.
 *
 *   archive_speed -p PATH -n RECORDS [-b MAX_BATCH] [-w MAX_WAIT_MS]
 *                 [-q QUEUE_MAX] [-r RATE] [-t SECS]
 *
 * Records are real message records (archive_format_message): a signed and
 * encrypted text/plain part of 200 to 400 characters, URIs, Call-ID, tags,
 * about 1 KB each. Without -r they are submitted as fast as the queue
 * (-q, default 4096) takes them: a closed loop that measures throughput
 * (its latency is mostly time spent in the queue). With
 * -r they are submitted RATE a second, evenly paced, for latency at a
 * load the disk keeps up with. -t stops submitting after SECS (for the
 * slow one-fdatasync-per-record run). One line of "key value" pairs:
 * records, batches, seconds, records per second, records per batch and
 * the submit -> done latency in ms (median, p99, max).
 */
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "services/archive.h"
#include "services/archwriter.h"

static uint64_t *t_sub, *t_done;
static long ndone, nfailed;

static uint64_t
now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void
done(void *arg, int durable)
{
	t_done[(intptr_t)arg] = now_ns();
	ndone++;
	nfailed += !durable;
}

/* Record i, formatted into b (emptied first). */
static void
record(struct buf *b, long i)
{
	static const char *const rcpt[] = { "CN=ss1.atlanta.example.com",
		"CN=bob@biloxi.example.com" };
	static const struct archive_signature sig = { "CN=alice@atlanta."
		"example.com,O=Atlanta Example", 1, 1, NULL };
	char text[512], cid[64], tag[24];
	struct archive_part p = { .type = "text/plain", .charset = "utf-8",
		.encrypted = 1, .opened_with = "CN=ss1.atlanta.example.com",
		.recipients = rcpt, .nrecipients = 2, .sigs = &sig, .nsigs = 1 };
	struct archive_message m = { .cseq = (unsigned long)i % 1000 + 1,
		.method = "MESSAGE", .from_uri = "sip:alice@atlanta.example.com",
		.from_tag = tag, .to_uri = "sip:bob@biloxi.example.com",
		.source_address = "192.0.2.4", .source_port = 5060,
		.transport = "tls", .rule = "/etc/e2mproxyd.conf:57",
		.content_type = "application/pkcs7-mime; smime-type=enveloped-data",
		.parts = &p, .nparts = 1 };
	size_t n = 200 + (size_t)(i * 7919 % 200), k;

	for (k = 0; k < n; k++)
		text[k] = "Meet me at the usual place at noon, bring the "
		    "papers. "[k % 56];
	snprintf(cid, sizeof(cid), "%08lx-%04lx@pc33.atlanta.example.com",
	    (unsigned long)i * 2654435761u, (unsigned long)i & 0xffff);
	snprintf(tag, sizeof(tag), "%lu", 1928301774ul + (unsigned long)i);
	p.data = (const unsigned char *)text;
	p.len = n;
	m.time_ms = 1796573400123LL + i;
	m.call_id = cid;
	b->len = 0;
	archive_format_message(b, &m);
}

static int
by_value(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static void
wait_some(struct archwriter *w, int timeout_ms)
{
	struct pollfd p = { archwriter_fd(w), POLLIN, 0 };

	if (poll(&p, 1, timeout_ms) == 1)
		archwriter_collect(w);
}

int
main(int argc, char **argv)
{
	struct archwriter_conf c = { .queue_max = 4096 };
	struct archwriter_stats st;
	struct archwriter *w;
	struct buf b = { 0 };
	char err[256];
	long n = 10000, i, rate = 0, bytes = 0;
	double secs = 0, took;
	uint64_t t0, next, *lat;
	int o;

	while ((o = getopt(argc, argv, "b:n:p:q:r:t:w:")) != -1) {
		switch (o) {
		case 'b':
			c.max_batch = (unsigned)atoi(optarg);
			break;
		case 'n':
			n = atol(optarg);
			break;
		case 'p':
			c.path = optarg;
			break;
		case 'q':
			c.queue_max = (unsigned)atoi(optarg);
			break;
		case 'r':
			rate = atol(optarg);
			break;
		case 't':
			secs = atof(optarg);
			break;
		case 'w':
			c.max_wait_ms = (unsigned)atoi(optarg);
			break;
		default:
			fprintf(stderr, "usage: archive_speed -p PATH -n N "
			    "[-b BATCH] [-w MS] [-q QUEUE] [-r RATE] [-t SECS]\n");
			return 2;
		}
	}
	if (c.path == NULL || n <= 0 ||
	    (w = archwriter_new(&c, err, sizeof(err))) == NULL) {
		fprintf(stderr, "archive_speed: %s\n",
		    c.path == NULL ? "-p PATH needed" : err);
		return 2;
	}
	t_sub = calloc((size_t)n, sizeof(*t_sub));
	t_done = calloc((size_t)n, sizeof(*t_done));
	lat = calloc((size_t)n, sizeof(*lat));
	t0 = next = now_ns();
	for (i = 0; i < n; i++) {
		if (secs > 0 && now_ns() - t0 > (uint64_t)(secs * 1e9))
			break;
		if (rate > 0) {
			next = t0 + (uint64_t)i * 1000000000u / (uint64_t)rate;
			while (now_ns() < next)
				wait_some(w, 1);
		}
		record(&b, i);
		bytes += (long)b.len;
		t_sub[i] = now_ns();
		while (archwriter_submit(w, b.p, b.len, done,
		    (void *)(intptr_t)i) == -1)
			wait_some(w, 100); /* queue full: let it drain */
		archwriter_collect(w);
	}
	if ((n = i) == 0) {
		fprintf(stderr, "archive_speed: no record submitted\n");
		return 1;
	}
	while (ndone < n)
		wait_some(w, 1000);
	took = (double)(now_ns() - t0) / 1e9;
	archwriter_stats(w, &st);
	archwriter_free(w);
	for (i = 0; i < n; i++)
		lat[i] = t_done[i] - t_sub[i];
	qsort(lat, (size_t)n, sizeof(*lat), by_value);
	printf("records %ld failed %ld batches %llu seconds %.3f rate %.0f "
	    "per_batch %.1f bytes_per_record %ld lat_p50_ms %.2f "
	    "lat_p99_ms %.2f lat_max_ms %.2f\n", n, nfailed, st.batches, took,
	    (double)n / took, st.batches ? (double)st.records /
	    (double)st.batches : 0, bytes / n, (double)lat[n / 2] / 1e6,
	    (double)lat[n * 99 / 100] / 1e6, (double)lat[n - 1] / 1e6);
	buf_free(&b);
	free(t_sub);
	free(t_done);
	free(lat);
	return nfailed == 0 ? 0 : 1;
}
