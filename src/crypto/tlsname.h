/*
 * tlsname.h - the name check of outgoing TLS connections, done with
 * OpenSSL's own matching (X509_check_host, X509_check_ip_asc) instead of
 * Sofia 1.12's.
 *
 * Sofia's check (tport_tls.c, tls_post_connection_check) collects the
 * peer's subjectAltNames by their printed tags and looks for "IP" where
 * OpenSSL prints "IP Address", so iPAddress SANs never match; and it adds
 * the CN to the list even when the certificate has SANs, which RFC 6125
 * 6.4.4 forbids. Its caller compares the name the connection was opened
 * for (tport_subject_search) with that list. tlscheck.c (proxyd/sofia)
 * replaces that comparison with tlsname_check(); this file supplies the
 * certificate: SSL_connect() is interposed for the process, and when a
 * client handshake completes the peer's certificate is kept until the
 * check that Sofia runs next, in the same call (nothing else runs in
 * between: tls_connect calls SSL_connect, then the check).
 *
 * Why a client connection failed is remembered with the peer's address,
 * so that its close can be logged (tlsname_failure): a name that does not
 * match; a chain that does not verify (untrusted, expired: Sofia's client
 * handshake completes without verifying, SSL_VERIFY_NONE, unless it must
 * verify clients too, and refuses the connection after it by the verify
 * result); a handshake that fails.
 *
 * The rules (RFC 6125 6.4, RFC 5280 4.2.1.6, RFC 5922 7.1):
 * - an IP literal matches an iPAddress SAN only (as openssl s_client
 *   -verify_ip), never the CN;
 * - a host name matches a DNS SAN, or a "sip:" URI SAN naming exactly
 *   that host (RFC 5922), or the CN only when there is no DNS SAN (as
 *   openssl s_client -verify_hostname); no wildcards (RFC 5922 7.2).
 *
 * Loop thread (the thread that runs Sofia's transports); the state is
 * per thread.
 */
#ifndef TLSNAME_H
#define TLSNAME_H

#include <stddef.h>
#include <sys/socket.h>

/* Keep certificates and failures from now on (off: SSL_connect only
 * passes through). */
void tlsname_enable(void);

/*
 * The certificate of the client handshake that just completed against
 * NAME (a host name or IP literal, IPv6 with or without brackets, or a
 * sip:/sips: URI of one): 1 when it names NAME, 0 when it does not (the
 * failure and its reason are kept for tlsname_failure), -1 when no
 * handshake is waiting for its check. The certificate is used once.
 */
int tlsname_check(const char *name);

/*
 * The failure kept for a client connection to PEER (its handshake, or
 * its name), taken: 1 and its reason in WHY, or 0 when there is none.
 */
int tlsname_failure(const struct sockaddr *peer, socklen_t len, char *why,
    size_t whysz);

/*
 * Does the PEM certificate in FILE name NAME (as tlsname_check)? 1 yes,
 * 0 no (the reason in WHY), -1 unreadable. For tests and tools.
 */
int tlsname_match_file(const char *file, const char *name, char *why,
    size_t whysz);

#endif /* TLSNAME_H */
