/*
 * e2mlog.c - e2mlog(1): search the IM archive (services/archive.h) by
 * user, peer network, time, Call-ID and kind; print the records as they
 * are, or a line each with the final status joined to its message.
 *
 * The files are read twice: the first pass finds the matching messages
 * (and reports malformed lines), the second prints them, with the final
 * record of each, wherever it is among the files. Memory grows with the
 * number of matching messages (all of them with -t and no filter), not
 * with the size of the archive.
 */
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/buf.h"
#include "common/netaddr.h"
#include "common/version.h"
#include "services/archread.h"

#define MAX_LINE (64u << 20) /* a record is far smaller: a bound */
#define MAX_REPORTED 10      /* malformed lines named on stderr */

struct opts {
	int summary;             /* -t */
	int kind;                /* -k: 0 (all), or ARCHREAD_MESSAGE/FINAL */
	const char **users;
	size_t nusers;
	struct netaddr *peers;
	size_t npeers;
	const char **callids;
	size_t ncallids;
	long long since, until;  /* -s, -e */
	int has_since, has_until;
};

struct input {
	char *name;
	FILE *f;
};

/* Messages that matched, by Call-ID, CSeq and method: the final's status. */
struct entry {
	char *key;
	size_t klen;
	int status;              /* -1: no final record seen */
};

struct keyset {
	struct entry *e;
	size_t cap, n;
};

static const char *prog = "e2mlog";

static void
usage(FILE *f)
{
	fprintf(f, "usage: %s [-t] [-k message|final|all] [-u user]... "
	    "[-p address[/len]]...\n"
	    "       [-s time] [-e time] [-c call-id]... [-f archive]... "
	    "[file...]\n", prog);
}

/* ---- the set of matching messages ---- */

static uint64_t
hash(const char *k, size_t n)
{
	uint64_t h = 14695981039346656037u; /* FNV-1a */

	while (n-- > 0)
		h = (h ^ (uint8_t)*k++) * 1099511628211u;
	return h;
}

static struct entry *
slot(struct keyset *s, const char *key, size_t klen)
{
	size_t i = (size_t)hash(key, klen) & (s->cap - 1);

	while (s->e[i].key != NULL && (s->e[i].klen != klen ||
	    memcmp(s->e[i].key, key, klen) != 0))
		i = (i + 1) & (s->cap - 1);
	return &s->e[i];
}

static struct entry *
keyset_find(struct keyset *s, const char *key, size_t klen)
{
	struct entry *e;

	if (s->cap == 0)
		return NULL;
	e = slot(s, key, klen);
	return e->key != NULL ? e : NULL;
}

static int
keyset_grow(struct keyset *s)
{
	struct keyset bigger = { NULL, s->cap ? s->cap * 2 : 1024, s->n };
	size_t i;

	if ((bigger.e = calloc(bigger.cap, sizeof(*bigger.e))) == NULL)
		return -1;
	for (i = 0; i < s->cap; i++)
		if (s->e[i].key != NULL)
			*slot(&bigger, s->e[i].key, s->e[i].klen) = s->e[i];
	free(s->e);
	*s = bigger;
	return 0;
}

/* The entry for key, made if new; NULL when out of memory. */
static struct entry *
keyset_add(struct keyset *s, const char *key, size_t klen)
{
	struct entry *e;

	if ((s->n + 1) * 2 > s->cap && keyset_grow(s) == -1)
		return NULL;
	e = slot(s, key, klen);
	if (e->key != NULL)
		return e;
	if ((e->key = malloc(klen)) == NULL)
		return NULL;
	memcpy(e->key, key, klen);
	e->klen = klen;
	e->status = -1;
	s->n++;
	return e;
}

static void
keyset_free(struct keyset *s)
{
	size_t i;

	for (i = 0; i < s->cap; i++)
		free(s->e[i].key);
	free(s->e);
}

/* Call-ID NUL CSeq NUL method: decoded strings hold no NUL. */
static void
record_key(struct buf *k, const struct archread_rec *r)
{
	char cseq[24];

	k->len = 0;
	buf_str(k, r->call_id);
	buf_add(k, "", 1);
	snprintf(cseq, sizeof(cseq), "%lu", r->cseq);
	buf_str(k, cseq);
	buf_add(k, "", 1);
	buf_str(k, r->method);
}

/* ---- filters ---- */

static int
any_filter(const struct opts *o)
{
	return o->nusers > 0 || o->npeers > 0 || o->ncallids > 0 ||
	    o->has_since || o->has_until;
}

static int
peer_matches(const struct opts *o, const char *address)
{
	struct sockaddr_storage ss;
	struct sockaddr_in *in4 = (struct sockaddr_in *)&ss;
	struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&ss;
	size_t i;

	memset(&ss, 0, sizeof(ss));
	if (inet_pton(AF_INET, address, &in4->sin_addr) == 1)
		in4->sin_family = AF_INET;
	else if (inet_pton(AF_INET6, address, &in6->sin6_addr) == 1)
		in6->sin6_family = AF_INET6;
	else
		return 0;
	for (i = 0; i < o->npeers; i++)
		if (netaddr_match(&o->peers[i], (struct sockaddr *)&ss))
			return 1;
	return 0;
}

/* Every kind of filter given must match; within a kind, any value. */
static int
message_matches(const struct opts *o, const struct archread_rec *r)
{
	size_t i;
	int hit;

	if ((o->has_since && r->time_ms < o->since) ||
	    (o->has_until && r->time_ms >= o->until))
		return 0;
	for (i = 0, hit = o->nusers == 0; i < o->nusers && !hit; i++)
		hit = archread_user_match(r->from_uri, o->users[i]) ||
		    archread_user_match(r->to_uri, o->users[i]);
	if (!hit)
		return 0;
	for (i = 0, hit = o->ncallids == 0; i < o->ncallids && !hit; i++)
		hit = strcmp(r->call_id, o->callids[i]) == 0;
	if (!hit)
		return 0;
	return o->npeers == 0 || peer_matches(o, r->source_address);
}

/* ---- reading ---- */

struct reader {
	const struct opts *o;
	int need_set;  /* filters to join finals by, or statuses to show */
	struct keyset set;
	struct buf key, out;
	unsigned long long malformed, printed;
};

/* One line of pass 1: malformed lines reported, matches remembered. */
static int
first_pass(struct reader *rd, const struct input *in, unsigned long lineno,
    const char *line, size_t len)
{
	struct archread_rec r;
	struct entry *e;
	const char *why = "line too long";
	int rc = 0;

	if (len > MAX_LINE || archread_parse(&r, line, len, &why) == -1) {
		if (rd->malformed++ < MAX_REPORTED)
			fprintf(stderr, "%s: %s:%lu: malformed record: %s\n",
			    prog, in->name, lineno, why);
		if (len <= MAX_LINE)
			archread_clear(&r);
		return 0;
	}
	if (r.kind == ARCHREAD_MESSAGE && rd->need_set &&
	    message_matches(rd->o, &r)) {
		record_key(&rd->key, &r);
		if (rd->key.oom || keyset_add(&rd->set, (char *)rd->key.p,
		    rd->key.len) == NULL)
			rc = -1;
	} else if (r.kind == ARCHREAD_FINAL) {
		record_key(&rd->key, &r);
		if ((e = keyset_find(&rd->set, (char *)rd->key.p,
		    rd->key.len)) != NULL)
			e->status = r.status;
	}
	archread_clear(&r);
	return rc;
}

static void
emit(struct reader *rd, const char *line, size_t len)
{
	fwrite(line, 1, len, stdout);
	if (len == 0 || line[len - 1] != '\n')
		putchar('\n');
	rd->printed++;
}

static void
emit_summary(struct reader *rd)
{
	fwrite(rd->out.p, 1, rd->out.len, stdout);
	rd->out.len = 0;
	rd->printed++;
}

/* One line of pass 2: print what matched. */
static void
second_pass(struct reader *rd, const char *raw, size_t rawlen, size_t len)
{
	const struct opts *o = rd->o;
	struct archread_rec r;
	struct entry *e = NULL;
	const char *why;

	if (len > MAX_LINE || archread_parse(&r, raw, len, &why) == -1) {
		if (len <= MAX_LINE)
			archread_clear(&r);
		return;
	}
	if (r.kind != ARCHREAD_OTHER) {
		record_key(&rd->key, &r);
		e = keyset_find(&rd->set, (char *)rd->key.p, rd->key.len);
	}
	if (r.kind == ARCHREAD_MESSAGE && o->kind != ARCHREAD_FINAL &&
	    message_matches(o, &r)) {
		if (!o->summary)
			emit(rd, raw, rawlen);
		else {
			archread_summary(&rd->out, &r, e != NULL ? e->status :
			    -1);
			emit_summary(rd);
		}
	} else if (r.kind == ARCHREAD_FINAL) {
		if (e != NULL)
			e->status = r.status; /* a final read before its message */
		/* Orphans (no message read) only when nothing is filtered. */
		if (o->kind != ARCHREAD_MESSAGE && (e != NULL ||
		    !any_filter(o))) {
			if (!o->summary)
				emit(rd, raw, rawlen);
			else if (o->kind == ARCHREAD_FINAL || e == NULL) {
				archread_summary_final(&rd->out, &r);
				emit_summary(rd);
			}
		}
	} else if (r.kind == ARCHREAD_OTHER && !any_filter(o) &&
	    o->kind == 0 && !o->summary)
		emit(rd, raw, rawlen);
	archread_clear(&r);
}

/* Both passes over every input. -1 on a read error or no memory. */
static int
run(struct reader *rd, struct input *in, size_t nin)
{
	char *line = NULL;
	size_t cap = 0, i, len;
	ssize_t n;
	unsigned long lineno;
	int pass;

	for (pass = 1; pass <= 2; pass++) {
		for (i = 0; i < nin; i++) {
			rewind(in[i].f);
			lineno = 0;
			while ((n = getline(&line, &cap, in[i].f)) != -1) {
				lineno++;
				len = (size_t)n;
				if (len > 0 && line[len - 1] == '\n')
					len--;
				if (pass == 2)
					second_pass(rd, line, (size_t)n, len);
				else if (first_pass(rd, &in[i], lineno, line,
				    len) == -1) {
					free(line);
					fprintf(stderr, "%s: out of memory\n",
					    prog);
					return -1;
				}
			}
			if (ferror(in[i].f)) {
				fprintf(stderr, "%s: %s: read error\n", prog,
				    in[i].name);
				free(line);
				return -1;
			}
		}
	}
	free(line);
	return 0;
}

/* ---- inputs ---- */

static int
add_input(struct input **in, size_t *nin, const char *name, FILE *f)
{
	struct input *more = realloc(*in, (*nin + 1) * sizeof(**in));

	if (more == NULL || (more[*nin].name = strdup(name)) == NULL) {
		*in = more != NULL ? more : *in;
		return -1;
	}
	more[*nin].f = f;
	*in = more;
	(*nin)++;
	return 0;
}

/* A stream copied to a temporary file; NULL on error. */
static FILE *
spool(FILE *from)
{
	char chunk[65536];
	FILE *t = tmpfile();
	size_t n;

	while (t != NULL && (n = fread(chunk, 1, sizeof(chunk), from)) > 0)
		if (fwrite(chunk, 1, n, t) != n) {
			fclose(t);
			return NULL;
		}
	if (t != NULL && ferror(from)) {
		fclose(t);
		return NULL;
	}
	return t;
}

/*
 * Every input is read twice: standard input, a pipe ("<(zcat a.2.gz)")
 * or a device cannot be rewound, so they are copied aside first.
 */
static FILE *
open_rewindable(const char *name)
{
	FILE *f, *t;
	struct stat st;

	if (strcmp(name, "-") == 0)
		return spool(stdin);
	if ((f = fopen(name, "r")) == NULL)
		return NULL;
	if (fstat(fileno(f), &st) == 0 && S_ISREG(st.st_mode))
		return f;
	t = spool(f);
	fclose(f);
	return t;
}

static int
open_input(struct input **in, size_t *nin, const char *name)
{
	FILE *f = open_rewindable(name);

	if (f == NULL) {
		fprintf(stderr, "%s: %s: %s\n", prog, name, strerror(errno));
		return -1;
	}
	if (add_input(in, nin, name, f) == -1) {
		fclose(f);
		return -1;
	}
	return 0;
}

static int
by_number_down(const void *a, const void *b)
{
	unsigned long x = *(const unsigned long *)a,
	    y = *(const unsigned long *)b;

	return x < y ? 1 : x > y ? -1 : 0;
}

/* The numbers N of ARCHIVE.N beside ARCHIVE, highest (oldest) first. */
static unsigned long *
rotations(const char *archive, size_t *n)
{
	const char *slash = strrchr(archive, '/');
	const char *base = slash != NULL ? slash + 1 : archive;
	char dir[4096];
	size_t blen = strlen(base), cap = 0;
	unsigned long *v = NULL, *more;
	struct dirent *e;
	unsigned long k;
	char *end;
	DIR *d;

	snprintf(dir, sizeof(dir), "%.*s", slash == NULL ? 1 :
	    slash == archive ? 1 : (int)(slash - archive),
	    slash == NULL ? "." : archive);
	*n = 0;
	if ((d = opendir(dir)) == NULL)
		return NULL;
	while ((e = readdir(d)) != NULL) {
		if (strncmp(e->d_name, base, blen) != 0 ||
		    e->d_name[blen] != '.' || e->d_name[blen + 1] < '0' ||
		    e->d_name[blen + 1] > '9')
			continue;
		errno = 0;
		k = strtoul(e->d_name + blen + 1, &end, 10);
		if (*end != '\0' || errno != 0)
			continue; /* "archive.1.gz": zcat it into e2mlog */
		if (*n == cap) {
			cap = cap ? cap * 2 : 16;
			if ((more = realloc(v, cap * sizeof(*v))) == NULL)
				break;
			v = more;
		}
		v[(*n)++] = k;
	}
	closedir(d);
	if (*n > 0)
		qsort(v, *n, sizeof(*v), by_number_down);
	return v;
}

/* -f ARCHIVE: ARCHIVE.N ... ARCHIVE.1, then ARCHIVE, those that exist. */
static int
open_archive(struct input **in, size_t *nin, const char *archive)
{
	size_t n, i, before = *nin;
	unsigned long *v = rotations(archive, &n);
	char name[4200];
	FILE *f;

	for (i = 0; i < n; i++) {
		snprintf(name, sizeof(name), "%s.%lu", archive, v[i]);
		if ((f = fopen(name, "r")) != NULL &&
		    add_input(in, nin, name, f) == -1)
			fclose(f);
	}
	free(v);
	if ((f = fopen(archive, "r")) != NULL &&
	    add_input(in, nin, archive, f) == -1)
		fclose(f);
	if (*nin == before) {
		fprintf(stderr, "%s: %s: no such archive, nor rotated ones\n",
		    prog, archive);
		return -1;
	}
	return 0;
}

/* ---- options ---- */

static int
push(const char ***v, size_t *n, const char *s)
{
	const char **more = realloc(*v, (*n + 1) * sizeof(**v));

	if (more == NULL)
		return -1;
	more[(*n)++] = s;
	*v = more;
	return 0;
}

static int
add_peer(struct opts *o, const char *s)
{
	struct netaddr *more = realloc(o->peers, (o->npeers + 1) *
	    sizeof(*more));

	if (more == NULL)
		return -1;
	o->peers = more;
	if (netaddr_parse(&o->peers[o->npeers], s) == -1) {
		fprintf(stderr, "%s: -p: not an address or a network: %s\n",
		    prog, s);
		return -1;
	}
	o->npeers++;
	return 0;
}

static int
set_time(const char *opt, const char *s, long long *t, int *has)
{
	if (archread_time(s, t) == -1) {
		fprintf(stderr, "%s: %s: not a UTC time (2026-12-06T16:10:00Z): "
		    "%s\n", prog, opt, s);
		return -1;
	}
	*has = 1;
	return 0;
}

static int
set_kind(struct opts *o, const char *s)
{
	if (strcmp(s, "message") == 0)
		o->kind = ARCHREAD_MESSAGE;
	else if (strcmp(s, "final") == 0)
		o->kind = ARCHREAD_FINAL;
	else if (strcmp(s, "all") == 0)
		o->kind = 0;
	else {
		fprintf(stderr, "%s: -k: message, final or all, not %s\n",
		    prog, s);
		return -1;
	}
	return 0;
}

/* One option; -1 when its value is refused. */
static int
option(int c, const char *arg, struct opts *o, struct input **in,
    size_t *nin)
{
	switch (c) {
	case 'c':
		return push(&o->callids, &o->ncallids, arg);
	case 'e':
		return set_time("-e", arg, &o->until, &o->has_until);
	case 'f':
		return open_archive(in, nin, arg);
	case 'k':
		return set_kind(o, arg);
	case 'p':
		return add_peer(o, arg);
	case 's':
		return set_time("-s", arg, &o->since, &o->has_since);
	case 't':
		o->summary = 1;
		return 0;
	case 'u':
		return push(&o->users, &o->nusers, arg);
	default:
		usage(stderr);
		return -1;
	}
}

/* 0 to go on, or the exit status: 2 for a usage error, 0 after -h, -V. */
static int
parse_opts(int argc, char **argv, struct opts *o, struct input **in,
    size_t *nin, int *done)
{
	int c;

	static const struct option longopts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};

	while ((c = getopt_long(argc, argv, "c:e:f:hk:p:s:tu:V", longopts,
	    NULL)) != -1) {
		if (c == 'h' || c == 'V') {
			if (c == 'h')
				usage(stdout);
			else
				printf("%s %s\n", prog, E2M_VERSION);
			*done = 1;
			return 0;
		}
		if (option(c, optarg, o, in, nin) == -1)
			return 2;
	}
	for (c = optind; c < argc; c++)
		if (open_input(in, nin, argv[c]) == -1)
			return 2;
	if (*nin == 0 && open_input(in, nin, "-") == -1)
		return 2;
	return 0;
}

int
main(int argc, char **argv)
{
	struct opts o = { 0 };
	struct reader rd = { .o = &o };
	struct input *in = NULL;
	size_t nin = 0, i;
	int rc, done = 0;

	rc = parse_opts(argc, argv, &o, &in, &nin, &done);
	/* Unfiltered records need no set: every one is printed as it is. */
	rd.need_set = any_filter(&o) || o.summary;
	if (rc == 0 && !done) {
		rc = run(&rd, in, nin) == -1 ? 2 : 0;
		if (rd.malformed > 0)
			fprintf(stderr, "%s: %llu malformed line%s skipped\n",
			    prog, rd.malformed, rd.malformed == 1 ? "" : "s");
		if (rc == 0 && (fflush(stdout) == EOF || ferror(stdout))) {
			fprintf(stderr, "%s: cannot write: %s\n", prog,
			    strerror(errno));
			rc = 2;
		}
		if (rc == 0 && rd.printed == 0)
			rc = 1;
	}
	for (i = 0; i < nin; i++) {
		fclose(in[i].f);
		free(in[i].name);
	}
	free(in);
	free(o.users);
	free(o.peers);
	free(o.callids);
	keyset_free(&rd.set);
	buf_free(&rd.key);
	buf_free(&rd.out);
	return rc;
}
