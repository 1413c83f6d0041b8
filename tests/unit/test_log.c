/* test_log.c - escaping of untrusted text, level names, and the lines
 * about a request in both formats (stderr caught in a file). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/log.h"
#include "t.h"

/* What one log call wrote to stderr, without the time stamp of text. */
static const char *
caught(void (*emit)(void))
{
	static char out[4096];
	char path[] = "/tmp/test_log.XXXXXX";
	int fd = mkstemp(path), saved = dup(2);
	FILE *f;
	size_t n;

	fflush(stderr);
	dup2(fd, 2);
	emit();
	fflush(stderr);
	dup2(saved, 2);
	close(saved);
	f = fdopen(fd, "r");
	rewind(f);
	n = fread(out, 1, sizeof(out) - 1, f);
	out[n] = '\0';
	fclose(f);
	unlink(path);
	if (n > 0 && out[n - 1] == '\n')
		out[n - 1] = '\0';
	/* "12:34:56.789 ident: " */
	return out[2] == ':' && strchr(out, ' ') != NULL ?
	    strchr(out, ' ') + 1 : out;
}

static const struct log_req req4 = { 7, "INVITE", 1, "a84b@pc33", "udp",
	"192.0.2.4", 5060 };
static const struct log_req req6 = { 8, "MESSAGE", 4294967295UL,
	"x\"y\\z\r\n\xc3\xa9", "tcp", "2001:db8::1", 5070 };

static void text4(void) { log_req(LOG_INFO, &req4, "answered %d", 496); }
static void text6(void) { log_req(LOG_WARNING, &req6, "odd"); }
static void plain(void) { log_msg(LOG_NOTICE, "started"); }
static void quiet(void) { log_req(LOG_DEBUG, &req4, "not shown"); }

static void
test_formats(void)
{
	log_init("e2mtest");
	T_EQ_STR(caught(text4), "e2mtest: info: tx 7: answered 496 (INVITE 1, "
	    "call-id a84b@pc33, udp 192.0.2.4:5060)", "text: the request's fields");
	T_EQ_STR(caught(text6), "e2mtest: warning: tx 8: odd (MESSAGE "
	    "4294967295, call-id x\"y\\x5cz\\x0d\\x0a\\xc3\\xa9, tcp "
	    "[2001:db8::1]:5070)", "text: a hostile Call-ID escaped, IPv6 "
	    "in brackets");
	T_EQ_STR(caught(quiet), "", "below the level: nothing");
	log_set_ident("e2m-other");
	log_set_format(LOG_FORMAT_JSON);
	T_OK(strncmp(caught(text4), "{\"time\":\"20", 10) == 0,
	    "json: time first");
	T_OK(strstr(caught(text4), "\"level\":\"info\",\"tx\":7,"
	    "\"method\":\"INVITE\",\"cseq\":1,\"call_id\":\"a84b@pc33\","
	    "\"transport\":\"udp\",\"source\":\"192.0.2.4\",\"port\":5060,"
	    "\"msg\":\"answered 496\"}") != NULL, "json: the request's fields");
	T_OK(strstr(caught(text6), "\"call_id\":\"x\\\"y\\\\z\\u000d"
	    "\\u000a\\u00c3\\u00a9\"") != NULL,
	    "json: quotes, backslashes, control and high bytes escaped");
	T_OK(strstr(caught(plain), "\"level\":\"notice\",\"msg\":"
	    "\"started\"}") != NULL, "json: a line about no request");
	log_set_format(LOG_FORMAT_TEXT);
	T_EQ_STR(caught(plain), "e2m-other: notice: started",
	    "the ident changed");
}

/* stderr as systemd's journal stream: "<N>" first, no stamp, no ident. */
static void
test_journal(void)
{
	static const char want[] = "<4>tx 7: late (INVITE 1, call-id "
	    "a84b@pc33, udp 192.0.2.4:5060)\n<3>broken\n";
	char path[] = "/tmp/test_log.XXXXXX", env[64], out[512];
	int fd = mkstemp(path), saved = dup(2);
	struct stat st;
	ssize_t n;

	fflush(stderr);
	dup2(fd, 2);
	fstat(2, &st);
	snprintf(env, sizeof(env), "%llu:%llu", (unsigned long long)st.st_dev,
	    (unsigned long long)st.st_ino);
	setenv("JOURNAL_STREAM", env, 1);
	log_configure(LOG_TO_STDERR, LOG_INFO, LOG_DAEMON);
	log_req(LOG_WARNING, &req4, "late");
	log_msg(LOG_ERR, "broken");
	setenv("JOURNAL_STREAM", "1:2", 1);
	log_configure(LOG_TO_STDERR, LOG_INFO, LOG_DAEMON);
	log_msg(LOG_NOTICE, "plain again");
	fflush(stderr);
	dup2(saved, 2);
	close(saved);
	unsetenv("JOURNAL_STREAM");
	log_configure(LOG_TO_STDERR, LOG_INFO, LOG_DAEMON);
	n = pread(fd, out, sizeof(out) - 1, 0);
	out[n > 0 ? n : 0] = '\0';
	close(fd);
	unlink(path);
	T_OK(strncmp(out, want, strlen(want)) == 0,
	    "journal: priority prefixes, no stamp or ident");
	T_OK(strstr(out, "\n<5>") == NULL && strstr(out, ": notice: plain "
	    "again\n") != NULL, "another stream: plain lines again");
}

int
main(void)
{
	char buf[64], tiny[6];

	T_EQ_STR(log_safe(buf, sizeof(buf), "INVITE sip:a", 12), "INVITE sip:a", "printable kept");
	T_EQ_STR(log_safe(buf, sizeof(buf), "a\r\nb", 4), "a\\x0d\\x0ab", "CR LF escaped");
	T_EQ_STR(log_safe(buf, sizeof(buf), "x\0y", 3), "x\\x00y", "NUL escaped, length honoured");
	T_EQ_STR(log_safe(buf, sizeof(buf), "\\", 1), "\\x5c", "backslash escaped");
	T_EQ_STR(log_safe(buf, sizeof(buf), "\xff", 1), "\\xff", "high byte escaped");
	log_safe(tiny, sizeof(tiny), "abcdefgh", 8);
	T_OK(strlen(tiny) < sizeof(tiny), "truncates within the buffer");
	T_EQ_STR(log_safe(buf, 0, "abc", 3), "", "zero-size buffer");
	T_EQ_INT(log_level_from_name("debug"), LOG_DEBUG, "level debug");
	T_EQ_INT(log_level_from_name("warning"), LOG_WARNING, "level warning");
	T_EQ_INT(log_level_from_name("loud"), -1, "unknown level");
	T_EQ_INT(log_facility_from_name("local3"), LOG_LOCAL3, "facility local3");
	T_EQ_INT(log_facility_from_name("kern"), -1, "kern not offered");
	test_formats();
	test_journal();
	return t_done();
}
