/* domain.h - host name patterns, as routing rules and policy rules use them. */
#ifndef DOMAIN_H
#define DOMAIN_H

/*
 * "example.com" matches that host exactly; "*.example.com" any name below
 * it (not example.com itself); "*" any host. Case is ignored, and so is
 * one trailing dot on either side. A NULL host matches only "*".
 */
int domain_match(const char *pattern, const char *host);

#endif /* DOMAIN_H */
