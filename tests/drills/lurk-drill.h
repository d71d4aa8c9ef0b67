/* What lurk-drill's two files share (tests/drills/lurk-drill.c). */
#ifndef LURK_DRILL_H
#define LURK_DRILL_H

#include <stdint.h>

#include "compiler.h"

#define MAX_FLOOD 60000 /* --conns */

/* The command line (lurk-drill.c's main). */
struct drill_opts {
	const char *cmd, *module, *token, *label;
	const char *window_start, *window_end, *ready_file, *mark_file, *stop_file;
	const char *address, *server_pk, *client_key, *source;
	int threads, count, fail_pause_ms, slow_ms, per_second, conns, rate;
	double seconds, grace;
};
extern struct drill_opts dopt;

/* One line on stdout, whole, at once. */
void say(const char *fmt, ...) LURK_PRINTF(1, 2);
int64_t mono_us(void);
void sleep_ms(int64_t ms);

/* lurk-drill-net.c: the raw-socket modes; each returns the exit status. */
int cmd_flood(void);
int cmd_handshake(void);
int cmd_junk(void);

#endif
