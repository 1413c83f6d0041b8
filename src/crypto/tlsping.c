/* tlsping.c - CRLF pongs on server-side TLS connections, through an
 * interposed SSL_read()/SSL_write() (tlsping.h). */
#include "crypto/tlsping.h"

#include <errno.h>
#include <poll.h>
#include <stddef.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

#include "common/nextsym.h"

typedef int rw_fn(SSL *, void *, int);
typedef int w_fn(SSL *, const void *, int);

static int enabled;
static int flag_index = -1; /* ex_data: a write of the caller's pending */
static uint64_t pongs;
static tlsping_observe_fn *observer;
static const struct tlsping_filter *filter;
static const char pong[] = "\r\n";

static rw_fn *
real_read(void)
{
	static nextsym_cache fn;

	return (rw_fn *)nextsym(&fn, "SSL_read");
}

static w_fn *
real_write(void)
{
	static nextsym_cache fn;

	return (w_fn *)nextsym(&fn, "SSL_write");
}

int
tlsping_enable(void)
{
	if (flag_index < 0)
		flag_index = SSL_get_ex_new_index(0, NULL, NULL, NULL, NULL);
	if (flag_index < 0)
		return -1;
	enabled = 1;
	return 0;
}

void
tlsping_observe(tlsping_observe_fn *fn)
{
	observer = fn;
}

void
tlsping_filter(const struct tlsping_filter *f)
{
	filter = f;
}

uint64_t
tlsping_pongs(void)
{
	return pongs;
}

/* Only CR and LF, with a CRLFCRLF among them. */
static int
is_ping(const unsigned char *p, int n)
{
	int i, seen = 0;

	for (i = 0; i < n; i++)
		if (p[i] != '\r' && p[i] != '\n')
			return 0;
	for (i = 0; i + 3 < n && !seen; i++)
		seen = memcmp(p + i, "\r\n\r\n", 4) == 0;
	return seen;
}

/* The socket takes a small write now (POLLOUT: room for more than a
 * record this size), so SSL_write finishes at once. */
static int
writable(SSL *s)
{
	struct pollfd p;
	int fd = SSL_get_wfd(s);

	if (fd < 0)
		return 0;
	p.fd = fd;
	p.events = POLLOUT;
	p.revents = 0;
	return poll(&p, 1, 0) == 1 && (p.revents & POLLOUT) != 0 &&
	    (p.revents & (POLLERR | POLLHUP)) == 0;
}

static void
answer(SSL *s)
{
	w_fn *w = real_write();
	int saved = errno;

	if (w == NULL || SSL_get_ex_data(s, flag_index) != NULL ||
	    !writable(s))
		return;
	if (w(s, pong, 2) == 2)
		pongs++;
	else
		ERR_clear_error(); /* the connection's own reads will tell */
	errno = saved;
}

static _Thread_local uint64_t reads;

uint64_t
tlsping_reads(void)
{
	return reads;
}

/* The end of the stream as OpenSSL reports a peer gone without
 * close_notify: SSL_get_error() says SSL_ERROR_SYSCALL with errno 0. */
static int
end_of_stream(void)
{
	ERR_clear_error();
	errno = 0;
	return 0;
}

int
SSL_read(SSL *s, void *buf, int num)
{
	rw_fn *r = real_read();
	int n, fd = -1, server = SSL_is_server(s);

	if (r == NULL) {
		errno = ENOSYS;
		return -1;
	}
	if (filter != NULL && server && num > 0) {
		fd = SSL_get_fd(s);
		if ((n = filter->before(fd, buf, num)) == 0)
			return end_of_stream();
		if (n > 0)
			goto seen;
	}
	n = r(s, buf, num);
	if (n > 0 && fd >= 0 && (n = filter->after(fd, buf, n, num)) == 0)
		return end_of_stream();
seen:
	if (n > 0)
		reads++;
	if (observer != NULL && n > 0 && server)
		observer(SSL_get_fd(s), buf, (size_t)n);
	if (enabled && n >= 4 && server && is_ping(buf, n))
		answer(s);
	return n;
}

/* What the filter holds back counts as pending: Sofia reads again; once
 * the filter has ended the stream, nothing is. */
int
SSL_pending(const SSL *s)
{
	typedef int pending_fn(const SSL *);
	static nextsym_cache next;
	pending_fn *real;
	int p;

	real = (pending_fn *)nextsym(&next, "SSL_pending");
	if (filter != NULL && SSL_is_server(s) &&
	    (p = filter->pending(SSL_get_fd(s))) != 0)
		return p > 0;
	return real != NULL ? real(s) : 0;
}

/* Every write, to know when one is left pending (OpenSSL wants the same
 * bytes again and nothing in between). */
int
SSL_write(SSL *s, const void *buf, int num)
{
	w_fn *w = real_write();
	int n;

	if (w == NULL) {
		errno = ENOSYS;
		return -1;
	}
	n = w(s, buf, num);
	if (enabled && flag_index >= 0)
		SSL_set_ex_data(s, flag_index,
		    n <= 0 && num > 0 ? (void *)1 : NULL);
	return n;
}
