/* test_log.c - escaping of untrusted text and level names. */
#include <string.h>

#include "common/log.h"
#include "t.h"

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
	return t_done();
}
