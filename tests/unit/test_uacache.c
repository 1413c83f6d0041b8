/* test_uacache.c - the learned-proxy cache file. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "t.h"
#include "ua/uacache.h"

#define PEM "-----BEGIN CERTIFICATE-----\nMIIBfake\n-----END CERTIFICATE-----\n"

static void
write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	if (f != NULL) {
		fputs(text, f);
		fclose(f);
	}
}

int
main(void)
{
	char dir[] = "/tmp/test_uacache.XXXXXX", file[128], err[512];
	const char *types[] = { "Text/Plain", "application/sdp" };
	struct uacache c = { 0 }, d = { 0 };
	struct stat st;
	int i;

	if (mkdtemp(dir) == NULL)
		return 1;
	snprintf(file, sizeof(file), "%s/cache", dir);

	T_EQ_INT(uacache_load(&c, file, err, sizeof(err)), 0,
	    "a missing file is an empty cache");
	T_EQ_INT(c.n, 0, "empty");

	T_EQ_INT(uacache_put(&c, "sip:p1;transport=tcp", "Proxy.Test", PEM,
	    types, 2, 1000), 0, "put one");
	T_EQ_INT(uacache_put(&c, "sip:p1;transport=tcp", "other.test", PEM,
	    NULL, 0, 1100), 0, "put another (whole body)");
	T_EQ_INT(uacache_put(&c, "sip:p1;transport=tcp", "proxy.test", PEM,
	    types, 1, 1200), 0, "put the first again: replaced");
	T_EQ_INT(c.n, 2, "two entries");
	T_EQ_STR(c.v[0].host, "proxy.test", "host kept in lower case");
	T_EQ_INT(c.v[0].ntypes, 1, "replaced: one type");
	T_EQ_STR(c.v[0].types[0], "text/plain", "type in lower case");
	T_EQ_INT(c.v[0].learned, 1200, "replaced: new time");

	T_OK(uacache_applies(&c.v[0], "sip:p1;transport=tcp", "TEXT/plain",
	    1300, 3600), "applies: same route, type named");
	T_OK(!uacache_applies(&c.v[0], "sip:p1;transport=tcp",
	    "application/sdp", 1300, 3600), "not for a type not named");
	T_OK(!uacache_applies(&c.v[0], "sip:p2", "text/plain", 1300, 3600),
	    "not on another route");
	T_OK(!uacache_applies(&c.v[0], "sip:p1;transport=tcp", "text/plain",
	    1200 + 3601, 3600), "not once older than the ttl");
	T_OK(!uacache_applies(&c.v[0], "sip:p1;transport=tcp", "text/plain",
	    1100, 3600), "not when learned in the future");
	T_OK(uacache_applies(&c.v[1], "sip:p1;transport=tcp", "image/png",
	    1300, 3600), "whole body wanted: any type");

	T_EQ_INT(uacache_save(&c, file, err, sizeof(err)), 0, "saved");
	T_OK(stat(file, &st) == 0 && (st.st_mode & 077) == 0,
	    "file is private (0600)");
	T_EQ_INT(uacache_load(&d, file, err, sizeof(err)), 0, "loaded back");
	T_EQ_INT(d.n, 2, "two entries read");
	T_OK(d.n == 2 && strcmp(d.v[0].cert_pem, PEM) == 0,
	    "certificate text round trip (newlines)");
	T_OK(d.n == 2 && strcmp(d.v[0].route, "sip:p1;transport=tcp") == 0 &&
	    d.v[0].learned == 1200 && d.v[1].ntypes == 0,
	    "route, time and types round trip");
	uacache_free(&d);

	uacache_drop(&c, 0);
	T_EQ_INT(c.n, 1, "dropped one");
	T_EQ_STR(c.v[0].host, "other.test", "the other stays");

	/* Bounded: the oldest goes. */
	for (i = 0; i < UACACHE_MAX_ENTRIES + 5; i++) {
		char host[32];

		snprintf(host, sizeof(host), "h%d.test", i);
		uacache_put(&c, "r", host, PEM, NULL, 0, 2000 + i);
	}
	T_EQ_INT(c.n, UACACHE_MAX_ENTRIES, "never more than the maximum");
	T_OK(strcmp(c.v[0].host, "other.test") != 0, "the oldest went first");
	uacache_free(&c);

	/* Not ours: not used, and the caller will not write over it. */
	write_file(file, "proxies = ( { host = \"x\"; } );\n");
	T_EQ_INT(uacache_load(&c, file, err, sizeof(err)), -1,
	    "an entry without route or certificate: refused");
	T_OK(strstr(err, ":1: a bad cache entry") != NULL, "error names line");
	write_file(file, "just text\n");
	T_EQ_INT(uacache_load(&c, file, err, sizeof(err)), -1,
	    "not libconfig: refused");
	T_OK(strncmp(err, file, strlen(file)) == 0, "error names the file");
	write_file(file, "something = 1;\n");
	T_EQ_INT(uacache_load(&c, file, err, sizeof(err)), -1,
	    "no proxies list: refused");
	T_OK(uacache_save(&c, "/nonexistent/dir/cache", err, sizeof(err)) ==
	    -1 && strstr(err, "cannot write") != NULL, "unwritable: error");

	unlink(file);
	rmdir(dir);
	return t_done();
}
