/*
 * notify-recv: a service manager's end of the sd_notify protocol, for
 * tests/test-lurkd-notify.sh. Binds a unix datagram socket at PATH (an
 * abstract name when PATH starts with '@'), then appends each datagram
 * received to OUT as one line, its newlines shown as " | ", until SIGTERM
 * or SECONDS (default 120) pass. When the socket is bound it creates
 * OUT.ready, so the caller waits on that file, not on time.
 *
 *   notify-recv PATH OUT [SECONDS]
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

static volatile sig_atomic_t stop;

static void
on_term(int sig)
{
	(void)sig;
	stop = 1;
}

int
main(int argc, char **argv)
{
	struct sockaddr_un sa;
	socklen_t salen;
	char buf[4096 + 1], ready[4096];
	long seconds = argc > 3 ? strtol(argv[3], NULL, 10) : 120;
	time_t end;
	size_t n;
	FILE *out, *f;
	int fd;

	if (argc < 3 || (n = strlen(argv[1])) < 2 || n >= sizeof(sa.sun_path) || seconds <= 0) {
		fprintf(stderr, "usage: notify-recv PATH OUT [SECONDS]\n");
		return 2;
	}
	signal(SIGTERM, on_term);
	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	memcpy(sa.sun_path, argv[1], n);
	salen = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n);
	if (argv[1][0] == '@')
		sa.sun_path[0] = '\0';
	else
		salen++;
	if ((fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0)) < 0 ||
		bind(fd, (struct sockaddr *)&sa, salen) != 0) {
		perror("notify-recv: bind");
		return 1;
	}
	if ((out = fopen(argv[2], "a")) == NULL) {
		perror("notify-recv: OUT");
		return 1;
	}
	snprintf(ready, sizeof(ready), "%s.ready", argv[2]);
	if ((f = fopen(ready, "w")) == NULL || fclose(f) != 0) {
		perror("notify-recv: OUT.ready");
		return 1;
	}
	end = time(NULL) + seconds;
	while (!stop && time(NULL) < end) {
		struct pollfd pf = {.fd = fd, .events = POLLIN};
		ssize_t r;

		if (poll(&pf, 1, 200) <= 0)
			continue;
		if ((r = recv(fd, buf, sizeof(buf) - 1, 0)) < 0) {
			if (errno == EINTR)
				continue;
			perror("notify-recv: recv");
			break;
		}
		buf[r] = '\0';
		for (char *p = buf; *p != '\0'; p++) {
			if (*p == '\n')
				fputs(" | ", out);
			else
				fputc(*p, out);
		}
		fputc('\n', out);
		fflush(out);
	}
	fclose(out);
	close(fd);
	if (argv[1][0] != '@')
		unlink(argv[1]);
	return 0;
}
