/*
 * Readiness and state for a service manager: the sd_notify(3) protocol,
 * written directly (no libsystemd). Each call sends one datagram to the unix
 * socket named by $NOTIFY_SOCKET (a path, or an abstract name when it starts
 * with '@'); with the variable unset they do nothing. Failures are logged
 * and never fatal: lurkd serves whether or not anyone listens.
 *
 * Only lurkd's main process calls these (privilege separated: the parent,
 * which the service manager started), so the unit's NotifyAccess=main holds.
 */
#ifndef LURKD_NOTIFY_H
#define LURKD_NOTIFY_H

/* Sends msg as it is ("KEY=value" lines). 0 sent, 1 no $NOTIFY_SOCKET, -1 failed. */
int lurkd_notify(const char *msg);
/* READY=1, MAINPID= (this process) and STATUS=status. */
void lurkd_notify_ready(const char *status);
/* RELOADING=1 with MONOTONIC_USEC= (the time, which systemd 253 and later ask for). */
void lurkd_notify_reloading(void);
/* STOPPING=1. */
void lurkd_notify_stopping(void);

#endif
