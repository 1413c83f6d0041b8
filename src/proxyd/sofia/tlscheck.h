/*
 * tlscheck.h - outgoing TLS connections: the peer's name checked by
 * OpenSSL's rules (crypto/tlsname.h), and a connection that fails its
 * handshake or its check reported at once to the requests waiting for it.
 *
 * Sofia 1.12 (tport_tls.c) compares the name a connection was opened for
 * with the certificate's names through tport_subject_search(), a public
 * function it calls through the PLT; it is interposed here, and during
 * the check after a handshake (tlsname holds that handshake's
 * certificate) the answer is tlsname_check()'s. Called at any other time
 * (Sofia asks whether a connection verified for one name may carry a
 * message for another), the answer is no: the message gets a connection
 * of its own, checked for its own name. (Sofia's check of incoming
 * clients' names, TPTLS_VERIFY_SUBJECTS_IN, would come here too; the
 * proxy never asks for it.)
 *
 * A refused connection is closed by Sofia with tport_close(), without
 * telling the transactions whose requests wait in its queue: they ran
 * into their timeout (408 after 32 s). tport_close() is interposed too:
 * for a TLS connection that never completed its handshake it turns
 * Sofia's "report shutdown to pending requests" on for that connection
 * (TPTAG_SDWN_ERROR, which nta turns off for all), so nta fails them at
 * once with a 503 of its own (500 upstream, responses.c), and it logs
 * why the connection failed.
 *
 * To remove once Sofia checks names with OpenSSL and reports refused
 * handshakes. Loop thread.
 */
#ifndef TLSCHECK_H
#define TLSCHECK_H

/* From now on: report failed TLS handshakes (always), and check names
 * by OpenSSL's rules (NAMES: when tls.verify_server is on). */
void tlscheck_enable(int names);

#endif /* TLSCHECK_H */
