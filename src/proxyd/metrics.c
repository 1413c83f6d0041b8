/* metrics.c - /metrics and /status over evhttp (metrics.h). */
#include "proxyd/metrics.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>

/* An operator's scrape, not a file server: small requests only. */
#define MAX_HEADERS 8192
#define MAX_BODY 0
#define TIMEOUT_S 10

struct metrics {
	struct evhttp *http;
	metrics_collect_fn *metrics;
	status_collect_fn *status;
	void *arg;
};

struct metrics_out {
	struct evbuffer *b;
	const char *family;
};

struct status_out {
	struct evbuffer *b;
	int first; /* no member yet in the innermost object or array */
};

void
mo_family(struct metrics_out *o, const char *name, const char *type,
    const char *help)
{
	o->family = name;
	evbuffer_add_printf(o->b, "# HELP %s %s\n# TYPE %s %s\n", name, help,
	    name, type);
}

static void
sample_name(struct metrics_out *o, const char *labels)
{
	if (labels != NULL && *labels != '\0')
		evbuffer_add_printf(o->b, "%s{%s} ", o->family, labels);
	else
		evbuffer_add_printf(o->b, "%s ", o->family);
}

void
mo_u64(struct metrics_out *o, const char *labels, uint64_t v)
{
	sample_name(o, labels);
	evbuffer_add_printf(o->b, "%llu\n", (unsigned long long)v);
}

void
mo_double(struct metrics_out *o, const char *labels, double v)
{
	sample_name(o, labels);
	evbuffer_add_printf(o->b, "%.17g\n", v);
}

const char *
mo_label(char *buf, size_t bufsz, const char *name, const char *value)
{
	size_t n = strlen(buf);
	const char *p;

	if (n + 1 >= bufsz)
		return buf;
	n += (size_t)snprintf(buf + n, bufsz - n, "%s%s=\"", n > 0 ? "," : "",
	    name);
	for (p = value; *p != '\0' && n + 4 < bufsz; p++) {
		if (*p == '\\' || *p == '"') {
			buf[n++] = '\\';
			buf[n++] = *p;
		} else if (*p == '\n') {
			buf[n++] = '\\';
			buf[n++] = 'n';
		} else {
			buf[n++] = *p;
		}
	}
	if (n + 2 > bufsz)
		n = bufsz - 2;
	buf[n++] = '"';
	buf[n] = '\0';
	return buf;
}

static void
json_str(struct evbuffer *b, const char *s)
{
	const unsigned char *p;

	evbuffer_add(b, "\"", 1);
	for (p = (const unsigned char *)s; *p != '\0'; p++) {
		if (*p == '"' || *p == '\\')
			evbuffer_add_printf(b, "\\%c", *p);
		else if (*p < 0x20 || *p == 0x7f)
			evbuffer_add_printf(b, "\\u%04x", *p);
		else
			evbuffer_add(b, p, 1);
	}
	evbuffer_add(b, "\"", 1);
}

static void
member(struct status_out *o, const char *name)
{
	if (!o->first)
		evbuffer_add(o->b, ",", 1);
	o->first = 0;
	if (name != NULL) {
		json_str(o->b, name);
		evbuffer_add(o->b, ":", 1);
	}
}

void
so_str(struct status_out *o, const char *name, const char *v)
{
	member(o, name);
	json_str(o->b, v != NULL ? v : "");
}

void
so_u64(struct status_out *o, const char *name, uint64_t v)
{
	member(o, name);
	evbuffer_add_printf(o->b, "%llu", (unsigned long long)v);
}

void
so_open(struct status_out *o, const char *name, int array)
{
	member(o, name);
	evbuffer_add(o->b, array ? "[" : "{", 1);
	o->first = 1;
}

void
so_close(struct status_out *o, int array)
{
	evbuffer_add(o->b, array ? "]" : "}", 1);
	o->first = 0;
}

static void
reply(struct evhttp_request *req, int code, const char *reason,
    const char *type, struct evbuffer *b)
{
	struct evkeyvalq *h = evhttp_request_get_output_headers(req);

	evhttp_add_header(h, "Content-Type", type);
	evhttp_add_header(h, "Cache-Control", "no-store");
	evhttp_send_reply(req, code, reason, b);
}

static void
on_request(struct evhttp_request *req, void *arg)
{
	struct metrics *m = arg;
	const struct evhttp_uri *u = evhttp_request_get_evhttp_uri(req);
	const char *uri = u != NULL ? evhttp_uri_get_path(u) : NULL;
	struct evbuffer *b = evbuffer_new();
	enum evhttp_cmd_type cmd = evhttp_request_get_command(req);

	if (b == NULL) {
		evhttp_send_error(req, 500, NULL);
		return;
	}
	if (cmd != EVHTTP_REQ_GET && cmd != EVHTTP_REQ_HEAD) {
		evbuffer_add_printf(b, "only GET\n");
		evhttp_add_header(evhttp_request_get_output_headers(req),
		    "Allow", "GET, HEAD");
		reply(req, 405, "Method Not Allowed", "text/plain", b);
	} else if (uri == NULL) {
		evbuffer_add_printf(b, "bad request\n");
		reply(req, 400, "Bad Request", "text/plain", b);
	} else if (strcmp(uri, "/metrics") == 0) {
		struct metrics_out o = { b, NULL };

		m->metrics(m->arg, &o);
		reply(req, 200, "OK", "text/plain; version=0.0.4; charset=utf-8",
		    b);
	} else if (strcmp(uri, "/status") == 0) {
		struct status_out o = { b, 1 };

		evbuffer_add(b, "{", 1);
		m->status(m->arg, &o);
		evbuffer_add(b, "}\n", 2);
		reply(req, 200, "OK", "application/json", b);
	} else {
		evbuffer_add_printf(b, "not found: try /metrics or /status\n");
		reply(req, 404, "Not Found", "text/plain", b);
	}
	evbuffer_free(b);
}

struct metrics *
metrics_new(struct loop *l, const char *address, int port,
    metrics_collect_fn *collect, status_collect_fn *status, void *arg,
    char *err, size_t errsz)
{
	struct metrics *m = calloc(1, sizeof(*m));

	if (m == NULL || (m->http = evhttp_new(loop_base(l))) == NULL) {
		snprintf(err, errsz, "out of memory");
		free(m);
		return NULL;
	}
	m->metrics = collect;
	m->status = status;
	m->arg = arg;
	evhttp_set_max_headers_size(m->http, MAX_HEADERS);
	evhttp_set_max_body_size(m->http, MAX_BODY);
	evhttp_set_timeout(m->http, TIMEOUT_S);
	evhttp_set_allowed_methods(m->http, EVHTTP_REQ_GET | EVHTTP_REQ_HEAD |
	    EVHTTP_REQ_POST | EVHTTP_REQ_PUT | EVHTTP_REQ_DELETE);
	evhttp_set_gencb(m->http, on_request, m);
	errno = 0;
	if (evhttp_bind_socket(m->http, address, (ev_uint16_t)port) != 0) {
		snprintf(err, errsz, "cannot listen on %s port %d: %s", address,
		    port, errno != 0 ? strerror(errno) : "bad address");
		metrics_free(m);
		return NULL;
	}
	return m;
}

void
metrics_free(struct metrics *m)
{
	if (m == NULL)
		return;
	if (m->http != NULL)
		evhttp_free(m->http);
	free(m);
}
