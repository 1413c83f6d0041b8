/*
 * tporterr.h - why a TCP or TLS connection failed, in the log.
 *
 * Sofia reports a connection's error (reset by the peer, timed out: a
 * peer that stopped acknowledging past sip.send_timeout, refused) to the
 * transactions waiting on it, and nta turns that into a 503 of its own
 * (500 upstream, responses.c), but nothing says why: the caller's 500 was
 * all an operator saw. Sofia's tport_error_report(), exported and called
 * through the PLT, is interposed: for a stream transport it logs (info)
 * the peer, the transport and the error, at most a few lines a second
 * (the rest counted into the next line), then lets Sofia go on. UDP's
 * errors (ICMP, per datagram) are not logged here.
 *
 * To remove once Sofia says why a connection failed. Loop thread.
 */
#ifndef TPORTERR_H
#define TPORTERR_H

/* From now on, log connection errors (links the interposer in); not
 * without memory for the log's rate limit. */
void tporterr_enable(void);

/* Stop logging them. */
void tporterr_reset(void);

#endif /* TPORTERR_H */
