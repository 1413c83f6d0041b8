/*
 * confload.c - reading a libconfig file into struct conf: errors with
 * file and line, the option tables, the checks of values and files that
 * every section uses (see confload.h).
 */
#if !defined(_GNU_SOURCE) && !defined(_POSIX_C_SOURCE)
#define _POSIX_C_SOURCE 200809L /* strdup, fileno, O_CLOEXEC under -std=c11 */
#endif

#include "proxyd/confload.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/log.h"

/* Control characters from quoted values must not split the one-line msg. */
static void
deliver(struct loader *l, char *msg)
{
	char *p;

	for (p = msg; *p != '\0'; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			*p = '?';
	l->fn(l->arg, msg);
	l->nerrors++;
}

static void
verr(struct loader *l, const char *file, unsigned line, const char *fmt,
    va_list ap)
{
	char small[512], *big;
	va_list ap2;
	int head, len;

	va_copy(ap2, ap);
	/* Line 0 is the file as a whole (it cannot be opened): no line. */
	head = line > 0 ? snprintf(small, sizeof(small), "%s:%u: ", file, line) :
	    snprintf(small, sizeof(small), "%s: ", file);
	if (head < 0 || (size_t)head >= sizeof(small))
		head = 0;
	len = vsnprintf(small + head, sizeof(small) - (size_t)head, fmt, ap);
	if (len >= 0 && (size_t)(head + len) >= sizeof(small) &&
	    (big = malloc((size_t)head + (size_t)len + 1)) != NULL) {
		memcpy(big, small, (size_t)head);
		vsnprintf(big + head, (size_t)len + 1, fmt, ap2);
		deliver(l, big);
		free(big);
	} else
		deliver(l, small);
	va_end(ap2);
}

void
cl_err_at(struct loader *l, const char *file, unsigned line, const char *fmt,
    ...)
{
	va_list ap;

	va_start(ap, fmt);
	verr(l, file, line, fmt, ap);
	va_end(ap);
}

/* Report at s's file and line; s == NULL means the file as a whole. */
void
cl_err(struct loader *l, const config_setting_t *s, const char *fmt, ...)
{
	const char *file = l->path;
	unsigned line = 0;
	va_list ap;

	if (s != NULL) {
		if (config_setting_source_file(s) != NULL)
			file = config_setting_source_file(s);
		line = config_setting_source_line(s);
	}
	va_start(ap, fmt);
	verr(l, file, line, fmt, ap);
	va_end(ap);
}

void *
cl_calloc(struct loader *l, size_t n, size_t size)
{
	void *p = calloc(n, size);

	if (p == NULL)
		l->oom = 1;
	return p;
}

char *
cl_strdup(struct loader *l, const char *s)
{
	char *p = strdup(s);

	if (p == NULL)
		l->oom = 1;
	return p;
}

char *
cl_lower(char *s)
{
	char *p;

	for (p = s; p != NULL && *p != '\0'; p++)
		*p = (char)tolower((unsigned char)*p);
	return s;
}

char *
cl_upper(char *s)
{
	char *p;

	for (p = s; p != NULL && *p != '\0'; p++)
		*p = (char)toupper((unsigned char)*p);
	return s;
}

int
cl_is_string(struct loader *l, const config_setting_t *s, const char *path)
{
	if (config_setting_type(s) == CONFIG_TYPE_STRING)
		return 1;
	cl_err(l, s, "%s: expected a string", path);
	return 0;
}

/*
 * Returns the element count, or -1 after reporting. Lists of strings are
 * taken too: in libconfig ( ) and [ ] look alike to most people.
 */
int
cl_strings(struct loader *l, const config_setting_t *s, const char *path)
{
	int i, n;

	if (config_setting_is_array(s) || config_setting_is_list(s)) {
		n = config_setting_length(s);
		for (i = 0; i < n; i++)
			if (config_setting_type(config_setting_get_elem(s,
			    (unsigned)i)) != CONFIG_TYPE_STRING)
				break;
		if (i == n)
			return n;
	}
	cl_err(l, s, "%s: expected an array of strings", path);
	return -1;
}

/*
 * An explicit empty array is more likely a mistake than a wish to match
 * everything, which is what leaving the setting out means.
 */
int
cl_nonempty_strings(struct loader *l, const config_setting_t *s,
    const char *path, const char *what)
{
	int n = cl_strings(l, s, path);

	if (n == 0)
		cl_err(l, s,
		    "%s: must not be empty; leave it out to match any %s",
		    path, what);
	return n;
}

int
cl_is_host(const char *s, size_t len)
{
	struct in6_addr a6;
	char buf[INET6_ADDRSTRLEN];
	size_t i;

	if (len == 0)
		return 0;
	if (s[0] == '[') {
		if (len < 3 || s[len - 1] != ']' || len - 2 >= sizeof(buf))
			return 0;
		memcpy(buf, s + 1, len - 2);
		buf[len - 2] = '\0';
		return inet_pton(AF_INET6, buf, &a6) == 1;
	}
	for (i = 0; i < len; i++)
		if (!isalnum((unsigned char)s[i]) &&
		    strchr("-._", s[i]) == NULL)
			return 0;
	return 1;
}

/* RFC 3261 token, which is what a method is. */
int
cl_is_token(const char *s)
{
	if (*s == '\0')
		return 0;
	for (; *s != '\0'; s++)
		if (!isalnum((unsigned char)*s) &&
		    strchr("-.!%*_+`'~", *s) == NULL)
			return 0;
	return 1;
}

/*
 * "sip:" or "sips:", optional user@, a host, an optional :port, then only
 * ;params or ?headers. The SIP stack parses it for real; this catches
 * typos at start-up instead of on the first request.
 */
int
cl_is_sip_uri(const char *s)
{
	const char *h, *e, *at;
	char *end;
	long port;

	if (strncasecmp(s, "sip:", 4) == 0)
		h = s + 4;
	else if (strncasecmp(s, "sips:", 5) == 0)
		h = s + 5;
	else
		return 0;
	for (e = s; *e != '\0'; e++)
		if (isspace((unsigned char)*e) || iscntrl((unsigned char)*e))
			return 0;
	at = strchr(h, '@');
	if (at != NULL && at < h + strcspn(h, ";?"))
		h = at + 1;
	if (*h == '[' && (e = strchr(h, ']')) != NULL)
		e++;
	else
		e = h + strcspn(h, ":;?");
	if (!cl_is_host(h, (size_t)(e - h)))
		return 0;
	if (*e == ':') {
		if (!isdigit((unsigned char)e[1]))
			return 0;
		errno = 0;
		port = strtol(e + 1, &end, 10);
		if (errno != 0 || port < 1 || port > 65535)
			return 0;
		e = end;
	}
	return *e == '\0' || *e == ';' || *e == '?';
}

int
cl_get_integer(const config_setting_t *s, long long *v)
{
	switch (config_setting_type(s)) {
	case CONFIG_TYPE_INT:
		*v = config_setting_get_int(s);
		return 1;
	case CONFIG_TYPE_INT64:
		*v = config_setting_get_int64(s);
		return 1;
	default:
		return 0;
	}
}

/* One of o->names, exactly as written; its value stored at at. */
static void
load_name(struct loader *l, const config_setting_t *s, const char *path,
    const struct option *o, char *at)
{
	const struct conf_name *n;
	const char *v;

	if (!cl_is_string(l, s, path))
		return;
	v = config_setting_get_string(s);
	for (n = o->names; n->name != NULL; n++)
		if (strcmp(v, n->name) == 0) {
			*(int *)(void *)at = n->value;
			return;
		}
	cl_err(l, s, "%s: unknown value \"%s\"", path, v);
}

static void
load_option(struct loader *l, const config_setting_t *s, const char *path,
    const struct option *o, void *base)
{
	char *at = (char *)base + o->off;
	long long v;

	switch (o->kind) {
	case K_GROUP:
		if (!config_setting_is_group(s))
			cl_err(l, s, "%s: expected a group", path);
		else
			cl_load_group(l, s, path, o->sub, base);
		break;
	case K_BOOL:
		if (config_setting_type(s) != CONFIG_TYPE_BOOL)
			cl_err(l, s, "%s: expected a boolean", path);
		else
			*(int *)(void *)at = config_setting_get_bool(s);
		break;
	case K_INT:
	case K_UINT:
	case K_SIZE:
		if (!cl_get_integer(s, &v))
			cl_err(l, s, "%s: expected an integer", path);
		else if (v < o->min || v > o->max)
			cl_err(l, s, "%s: %lld is out of range [%lld..%lld]",
			    path, v, o->min, o->max);
		else if (o->kind == K_INT)
			*(int *)(void *)at = (int)v;
		else if (o->kind == K_SIZE)
			*(size_t *)(void *)at = (size_t)v;
		else
			*(unsigned *)(void *)at = (unsigned)v;
		break;
	case K_NAME:
		load_name(l, s, path, o, at);
		break;
	case K_FN:
		o->fn(l, s, path, o, base);
		break;
	}
}

/* Every member of g must be one of opts; path "" is the top level. */
void
cl_load_group(struct loader *l, const config_setting_t *g, const char *path,
    const struct option *opts, void *base)
{
	const config_setting_t *s;
	const struct option *o;
	char sub[PATHSZ];
	int i;

	for (i = 0; (s = config_setting_get_elem(g, (unsigned)i)) != NULL;
	    i++) {
		for (o = opts; o->name != NULL; o++)
			if (strcmp(o->name, config_setting_name(s)) == 0)
				break;
		if (o->name == NULL) {
			cl_err(l, s, "unknown setting \"%s%s%s\"", path,
			    *path != '\0' ? "." : "", config_setting_name(s));
			continue;
		}
		snprintf(sub, sizeof(sub), "%s%s%s", path,
		    *path != '\0' ? "." : "", o->name);
		load_option(l, s, sub, o, base);
	}
}

/* Entries of a list of groups: -1 (reported) when s is not such a list. */
int
cl_group_list_len(struct loader *l, const config_setting_t *s, const char *path)
{
	if (!config_setting_is_list(s)) {
		cl_err(l, s, "%s: expected a list of groups", path);
		return -1;
	}
	return config_setting_length(s);
}

/* Load each entry with its own path ("sip.listen[2]"); the loader of an
 * entry appends it to the array the caller sized. */
void
cl_each_entry(struct loader *l, const config_setting_t *s, const char *path,
    elem_fn *load)
{
	char sub[PATHSZ];
	int i, n = config_setting_length(s);

	for (i = 0; i < n; i++) {
		snprintf(sub, sizeof(sub), "%s[%d]", path, i);
		load(l, config_setting_get_elem(s, (unsigned)i), sub);
	}
}

/* Checked even without a TLS listener: a wrong path is still a mistake. */
static int
check_readable(struct loader *l, const config_setting_t *s, const char *path,
    const char *file, struct stat *st)
{
	int fd;

	fd = open(file, O_RDONLY | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0) {
		cl_err(l, s, "%s: cannot read \"%s\": %s", path, file,
		    strerror(errno));
		return 0;
	}
	if (fstat(fd, st) < 0) {
		cl_err(l, s, "%s: cannot read \"%s\": %s", path, file,
		    strerror(errno));
		close(fd);
		return 0;
	}
	close(fd);
	if (!S_ISREG(st->st_mode)) {
		cl_err(l, s, "%s: \"%s\" is not a regular file", path, file);
		return 0;
	}
	return 1;
}

/*
 * A relative name is anchored to the directory of the configuration file
 * (as an operator reading the file expects, whatever directory the daemon
 * was started from; it moves to "/" anyway): "pki/proxy.pem" next to
 * /etc/e2mproxyd.conf is /etc/pki/proxy.pem.
 */
char *
cl_absolute(struct loader *l, const char *file)
{
	char cwd[4096], *p;
	const char *slash = strrchr(l->path, '/');
	int dirlen = slash != NULL ? (int)(slash - l->path) : 0;
	size_t len;

	if (file[0] == '/')
		return cl_strdup(l, file);
	cwd[0] = '\0';
	if (l->path[0] != '/' && getcwd(cwd, sizeof(cwd)) == NULL)
		return cl_strdup(l, file);
	len = strlen(cwd) + 1 + (size_t)dirlen + 1 + strlen(file) + 1;
	if ((p = malloc(len)) == NULL) {
		l->oom = 1;
		return NULL;
	}
	if (l->path[0] == '/')
		snprintf(p, len, "%.*s/%s", dirlen, l->path, file);
	else if (slash != NULL)
		snprintf(p, len, "%s/%.*s/%s", cwd, dirlen, l->path, file);
	else
		snprintf(p, len, "%s/%s", cwd, file);
	return p;
}

/*
 * A file named in the configuration: *to gets its absolute name, and it
 * must be a readable regular file. A private key (secret) must not be
 * accessible by group or others either.
 */
void
cl_check_file(struct loader *l, const config_setting_t *s, const char *path,
    const char *file, int secret, char **to)
{
	struct stat st;

	/* Messages name the file where it was looked for. */
	if ((*to = cl_absolute(l, file)) == NULL)
		return;
	if (!check_readable(l, s, path, *to, &st))
		return;
	if (secret && (st.st_mode & 077) != 0)
		cl_err(l, s, "%s: \"%s\" is accessible by other users "
		    "(mode %04o); chmod 600 it", path, *to,
		    (unsigned)(st.st_mode & 07777));
}

/* Empty means "not set" and is stored as NULL. */
static void
tls_file(struct loader *l, const config_setting_t *s, const char *path,
    const struct option *o, void *base, int secret)
{
	const char *v;

	if (!cl_is_string(l, s, path))
		return;
	v = config_setting_get_string(s);
	if (*v != '\0')
		cl_check_file(l, s, path, v, secret,
		    (char **)(void *)((char *)base + o->off));
}

void
cl_opt_file(struct loader *l, const config_setting_t *s, const char *path,
    const struct option *o, void *base)
{
	tls_file(l, s, path, o, base, 0);
}

void
cl_opt_secret(struct loader *l, const config_setting_t *s, const char *path,
    const struct option *o, void *base)
{
	tls_file(l, s, path, o, base, 1);
}

/* An array of readable files; empty is fine (none). */
void
cl_file_array(struct loader *l, const config_setting_t *s, const char *path,
    char ***to, size_t *n)
{
	const config_setting_t *e;
	int i, len;

	if ((len = cl_strings(l, s, path)) <= 0)
		return;
	if ((*to = cl_calloc(l, (size_t)len, sizeof(char *))) == NULL)
		return;
	for (i = 0; i < len; i++) {
		e = config_setting_get_elem(s, (unsigned)i);
		cl_check_file(l, e, path, config_setting_get_string(e), 0,
		    &(*to)[(*n)++]);
	}
}

/*
 * n strings of s (already checked) as networks into a new array *out;
 * *count gets the ones that parse, each other one is an error.
 */
void
cl_load_networks(struct loader *l, const config_setting_t *s, const char *path,
    int n, struct netaddr **out, size_t *count)
{
	const config_setting_t *e;
	const char *v;
	int i;

	if ((*out = cl_calloc(l, (size_t)n, sizeof(**out))) == NULL)
		return;
	for (i = 0; i < n; i++) {
		e = config_setting_get_elem(s, (unsigned)i);
		v = config_setting_get_string(e);
		if (netaddr_parse(&(*out)[*count], v) < 0)
			cl_err(l, e,
			    "%s: \"%s\" is not an IPv4 or IPv6 network",
			    path, v);
		else
			(*count)++;
	}
}

void
cl_free_strings(char **v, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

/* A syslog facility name, stored as its value at o->off (an int). */
void
cl_opt_facility(struct loader *l, const config_setting_t *s,
    const char *path, const struct option *o, void *base)
{
	const char *v;
	int facility;

	if (!cl_is_string(l, s, path))
		return;
	v = config_setting_get_string(s);
	if ((facility = log_facility_from_name(v)) < 0)
		cl_err(l, s, "%s: unknown facility \"%s\"", path, v);
	else
		*(int *)(void *)((char *)base + o->off) = facility;
}
