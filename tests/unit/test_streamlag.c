/* test_streamlag.c - how long a stream connection has been backed up. */
#include <stdint.h>

#include "proxyd/sofia/streamlag.h"
#include "t.h"

int
main(void)
{
	T_OK(!streamlag_on(), "off until told what a full buffer holds");
	streamlag_read(7, 60000, 1000);
	T_EQ_INT(streamlag_ms(1500), 0, "off: no signal");
	streamlag_set_full(16384);
	T_OK(streamlag_on(), "on");

	streamlag_read(7, 2000, 1000);
	T_EQ_INT(streamlag_ms(1010), 0, "a read of less than half: not backed up");
	streamlag_read(7, 16384, 1020);
	T_EQ_INT(streamlag_ms(1020), 0, "the first full read: backed up from now");
	streamlag_read(7, 30000, 1070);
	T_EQ_INT(streamlag_ms(1090), 70, "every read since full: 70 ms");
	streamlag_read(9, 100, 1100);
	T_EQ_INT(streamlag_ms(1100), 0,
	    "the latest read is another connection's, not backed up");
	streamlag_read(7, 20000, 1150);
	T_EQ_INT(streamlag_ms(1150), 130, "back to the first: still 130 ms");
	T_EQ_INT(streamlag_max_ms(1160), 130,
	    "the gauge: the longest seen at a read, 130 ms");
	streamlag_other();
	T_EQ_INT(streamlag_ms(1160), 0,
	    "a datagram, or a connection we opened: not this signal's");
	streamlag_read(7, 16383, 1170);
	streamlag_read(7, 20000, 1180);
	T_EQ_INT(streamlag_ms(1200), 20,
	    "one read under half ends it; the next full one starts again");
	streamlag_read(7, 20000, 2500);
	T_EQ_INT(streamlag_ms(2500), 0,
	    "a second without a read: not backed up all along, starts again");
	T_EQ_INT(streamlag_max_ms(4600), 0,
	    "the gauge forgets after two seconds without a read");
	streamlag_read(7, 20000, 2600);
	streamlag_forget(7);
	T_EQ_INT(streamlag_ms(2700), 0, "closed: forgotten");
	streamlag_read(7, 20000, 2800);
	T_EQ_INT(streamlag_ms(2850), 50,
	    "its number as a new connection starts from its own reads");
	streamlag_read(-1, 20000, 2900);
	T_EQ_INT(streamlag_ms(2900), 0, "a bad descriptor counts as another read");
	streamlag_read(65536, 20000, 2900);
	T_EQ_INT(streamlag_ms(2950), 0, "so does one past the table");
	streamlag_set_full(0);
	T_OK(!streamlag_on(), "off again");
	return t_done();
}
