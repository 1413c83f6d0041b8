/*
 * archgen.c - archive files for tests/integration/t_e2mlog.sh, made by the
 * real formatter (archive.c) and writer (archwriter.c) from a few
 * tab-separated words a record on standard input:
 *
 *   M TIME CALL-ID CSEQ FROM-URI TO-URI SOURCE-ADDRESS TEXT
 *   F TIME CALL-ID CSEQ STATUS
 *
 * TIME as e2mlog takes it (archread_time). TEXT "-": no body; "bin": one
 * binary part; anything else: one text/plain part, with "\n" turned into
 * a newline. The method is MESSAGE, the source port 5060 over udp.
 *
 *   archgen /absolute/archive < spec
 *
 * Exit 0 when every record was written durably.
 */
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "services/archive.h"
#include "services/archread.h"
#include "services/archwriter.h"

#define MAXF 8

static int written, failed;

static void
done(void *arg, int durable)
{
	(void)arg;
	if (durable)
		written++;
	else
		failed++;
}

/* Split line on tabs into at most MAXF fields; how many. */
static int
split(char *line, char **f)
{
	int n = 0;

	line[strcspn(line, "\r\n")] = '\0';
	while (n < MAXF) {
		f[n++] = line;
		if ((line = strchr(line, '\t')) == NULL)
			break;
		*line++ = '\0';
	}
	return n;
}

/* "\n" in the spec -> a newline, in place. */
static void
unescape(char *s)
{
	char *o = s;

	for (; *s != '\0'; s++) {
		if (s[0] == '\\' && s[1] == 'n') {
			*o++ = '\n';
			s++;
		} else
			*o++ = *s;
	}
	*o = '\0';
}

static int
format(struct buf *b, char **f, int n)
{
	static const unsigned char bin[] = { 0x00, 0xff, 0x10, 0x80 };
	struct archive_part part = { .type = "text/plain" };
	struct archive_message m = { .method = "MESSAGE", .source_port = 5060,
		.transport = "udp" };
	struct archive_final fin = { .method = "MESSAGE" };
	long long t;

	if (n < 5 || archread_time(f[1], &t) == -1)
		return -1;
	if (f[0][0] == 'F') {
		fin.time_ms = t;
		fin.call_id = f[2];
		fin.cseq = strtoul(f[3], NULL, 10);
		fin.status = atoi(f[4]);
		return archive_format_final(b, &fin);
	}
	if (n < 8)
		return -1;
	m.time_ms = t;
	m.call_id = f[2];
	m.cseq = strtoul(f[3], NULL, 10);
	m.from_uri = f[4];
	m.to_uri = f[5];
	m.source_address = f[6];
	m.rule = "archgen:1";
	if (strcmp(f[7], "bin") == 0) {
		part.type = "application/octet-stream";
		part.data = bin;
		part.len = sizeof(bin);
	} else {
		unescape(f[7]);
		part.data = (const unsigned char *)f[7];
		part.len = strlen(f[7]);
	}
	if (strcmp(f[7], "-") != 0) {
		m.parts = &part;
		m.nparts = 1;
		m.content_type = part.type;
	}
	return archive_format_message(b, &m);
}

int
main(int argc, char **argv)
{
	struct archwriter_conf c = { .max_wait_ms = 1 };
	struct archwriter *w;
	struct buf b = { 0 };
	struct pollfd p;
	char line[4096], err[256], *f[MAXF];
	int submitted = 0, refused = 0, lineno = 0;

	if (argc != 2) {
		fprintf(stderr, "usage: archgen /absolute/archive < spec\n");
		return 2;
	}
	c.path = argv[1];
	if ((w = archwriter_new(&c, err, sizeof(err))) == NULL) {
		fprintf(stderr, "archgen: %s\n", err);
		return 1;
	}
	while (fgets(line, sizeof(line), stdin) != NULL) {
		lineno++;
		b.len = 0;
		if (line[0] == '#' || line[0] == '\n')
			continue;
		if (format(&b, f, split(line, f)) == -1 ||
		    archwriter_submit(w, b.p, b.len, done, NULL) == -1) {
			fprintf(stderr, "archgen: line %d refused\n", lineno);
			refused++;
			continue;
		}
		submitted++;
	}
	p.fd = archwriter_fd(w);
	p.events = POLLIN;
	while (written + failed < submitted && poll(&p, 1, 5000) == 1)
		archwriter_collect(w);
	archwriter_free(w);
	buf_free(&b);
	return refused == 0 && written == submitted ? 0 : 1;
}
