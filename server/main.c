/*
 * lurkd: the key server. Holds private keys, authenticates clients over Noise
 * IK, and signs or decrypts for them what a TLS handshake needs.
 *
 * Processes. Started as root with `user =` naming another user, lurkd splits
 * in two, as OpenSSH's privilege separation does: a root parent that only
 * reads files (lurkd.conf and every file it names, and opens the audit log)
 * and a child that drops to `user` and serves. On start and on each reload
 * the parent reads the configuration afresh and sends the child the files'
 * contents (files.h, privsep.h); the child loads keys from them. So reload
 * and revocation work with root-only key files, log rotation reopens a
 * root-owned log, and the parent removes the socket and pid file at exit;
 * the process that talks to clients has no privilege and no way to ask for a
 * file. Started as the user it runs as (systemd's User=) or as root without
 * `user`, lurkd is one process that reads its files itself.
 *
 * Signals: every signal lurkd acts on is blocked before any thread exists;
 * the main thread takes them from a signalfd, so a burst of SIGHUPs can only
 * make reloads, one after the other, each reading the file as it is then.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <grp.h>
#include <pwd.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gnutls/gnutls.h>

#include "err.h"
#include "files.h"
#include "keystore.h"
#include "listen.h"
#include "log.h"
#include "mem.h"
#include "metrics.h"
#include "notify.h"
#include "privsep.h"
#include "replay.h"
#include "server.h"

#define DEFAULT_CONFIG LURK_SYSCONFDIR "/lurk/lurkd.conf"

static void
usage(FILE *f)
{
	fprintf(f,
		"usage: lurkd [-c FILE] [--syslog] [--debug] [--pid-file FILE]\n"
		"       lurkd --check-config FILE\n"
		"       lurkd --help | --version\n"
		"  -c, --config FILE     configuration (default %s)\n"
		"      --check-config F  load and check F (keys included), then exit\n"
		"      --syslog          log to syslog instead of stderr\n"
		"      --debug           debug logging (or LURK_DEBUG=server,chan,...)\n"
		"      --pid-file FILE   write the process id to FILE\n"
		"  -h, --help            print this help and exit\n"
		"  -V, --version         print the version and exit\n"
		"See lurkd(8) and lurkd.conf(5).\n",
		DEFAULT_CONFIG);
}

/* Memory holds private keys: no core dumps, no ptrace by other users. */
static void
harden(void)
{
	struct rlimit rl = {0, 0};

	if (setrlimit(RLIMIT_CORE, &rl) != 0)
		lurk_warn("setrlimit(RLIMIT_CORE): %s", strerror(errno));
	if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) != 0)
		lurk_warn("prctl(PR_SET_DUMPABLE): %s", strerror(errno));
}

#define ERR_MAX 8192

/* Logs each line of a multi-line message at error level. */
static void
log_lines(const char *prefix, const char *text)
{
	const char *p = text;

	while (*p != '\0') {
		size_t n = strcspn(p, "\n");
		lurk_error("%s%.*s", prefix, (int)n, p);
		p += n;
		if (*p == '\n')
			p++;
	}
}

static int
check_config(const char *path)
{
	struct lurkd_config *c = NULL;
	char *err = malloc(ERR_MAX), plan[2048];
	const struct passwd *pw;
	const char *p;

	if (err == NULL)
		return 1;
	err[0] = '\0';
	if (lurkd_config_load(path, NULL, LURKD_CONF_KEYS, &c, err, ERR_MAX) != 0) {
		for (p = err; *p != '\0';) {
			size_t n = strcspn(p, "\n");
			fprintf(stderr, "lurkd: %.*s\n", (int)n, p);
			p += n + (p[n] == '\n');
		}
		free(err);
		return 1;
	}
	/* What lurkd will make at start: unix sockets, and the folders missing for them. */
	pw = c->user != NULL ? getpwnam(c->user) : NULL;
	for (size_t i = 0; i < c->nlisten; i++) {
		(void)lurkd_listen_plan(&c->listen[i], c->socket_mode, pw, plan, sizeof(plan));
		if (plan[0] != '\0')
			printf("%s:%u: %s\n", path, c->listen[i].line, plan);
	}
	printf("%s: ok (%zu listen, %zu keys, %zu clients)\n", path, c->nlisten, c->nkeys,
		c->nclients);
	lurkd_config_unref(c);
	free(err);
	return 0;
}

struct lurkd_config *
lurkd_config_current(struct lurkd *s)
{
	struct lurkd_config *c;

	pthread_mutex_lock(&s->cfg_lock);
	c = lurkd_config_ref(s->cfg);
	pthread_mutex_unlock(&s->cfg_lock);
	return c;
}

/* Swaps c in; the workers re-check their connections against it. */
static void
install(struct lurkd *s, struct lurkd_config *c)
{
	struct lurkd_config *old;

	lurkd_metrics_bind(c);
	pthread_mutex_lock(&s->cfg_lock);
	old = s->cfg;
	c->generation = old->generation + 1;
	s->cfg = c;
	pthread_mutex_unlock(&s->cfg_lock);
	atomic_store(&s->generation, c->generation);
	if (c->nlisten != old->nlisten)
		lurk_warn("listen addresses are read at start only: restart lurkd to change them");
	if ((c->audit_log == NULL) != (old->audit_log == NULL) ||
		(c->audit_log != NULL && strcmp(c->audit_log, old->audit_log) != 0))
		lurk_warn("audit-log is read at start only: restart lurkd to change it");
	lurkd_audit_set_sync(s->audit, c->audit_sync);
	lurkd_config_unref(old);
	lurkd_workers_wake(s);
	lurk_info("configuration reloaded (generation %llu): %zu keys, %zu clients",
		(unsigned long long)c->generation, c->nkeys, c->nclients);
}

/*
 * Loads path through fs (NULL: the disk); on success the new configuration
 * serves. 0 when it does, -1 when the running one stays.
 */
static int
reload(struct lurkd *s, const char *path, struct lurkd_files *fs)
{
	struct lurkd_config *c = NULL;
	char *err = malloc(ERR_MAX);
	int r = -1;

	if (err == NULL)
		return -1;
	err[0] = '\0';
	if (lurkd_config_load(path, fs, LURKD_CONF_KEYS, &c, err, ERR_MAX) != 0) {
		lurk_error("reload refused, keeping the running configuration:");
		log_lines("  ", err);
		lurkd_metrics_reload(0);
	} else {
		install(s, c);
		lurkd_metrics_reload(1);
		r = 0;
	}
	free(err);
	return r;
}

/*
 * Descriptors lurkd needs besides its connections: sockets, epoll, files,
 * logs; at max-connections also the few newcomers admitted while the
 * connections they evicted are still closing (at most LURKD_EVICT_SLACK;
 * if the limit is hit anyway, accept pauses for a second).
 */
#define FD_RESERVE 64

/*
 * Raises the open-file limit to what max-connections needs. A max-connections
 * set in the file that the limit cannot allow is refused; the default is
 * lowered to fit, with a line saying so.
 */
static int
set_fd_budget(struct lurkd *s, const struct lurkd_config *c)
{
	struct rlimit rl;
	rlim_t need = (rlim_t)c->max_connections + FD_RESERVE;

	if (getrlimit(RLIMIT_NOFILE, &rl) != 0) {
		lurk_error("getrlimit(RLIMIT_NOFILE): %s", strerror(errno));
		return -1;
	}
	if (rl.rlim_cur < need) {
		struct rlimit want = {need, rl.rlim_max < need ? need : rl.rlim_max};
		/* Raising the hard limit needs privilege; else go as far as it allows. */
		if (setrlimit(RLIMIT_NOFILE, &want) != 0 && rl.rlim_cur < rl.rlim_max) {
			want.rlim_cur = rl.rlim_max;
			want.rlim_max = rl.rlim_max;
			(void)setrlimit(RLIMIT_NOFILE, &want);
		}
		(void)getrlimit(RLIMIT_NOFILE, &rl);
		if (rl.rlim_cur >= need)
			lurk_info("open-file limit raised to %llu for max-connections %u",
				(unsigned long long)rl.rlim_cur, c->max_connections);
	}
	if (rl.rlim_cur >= need) {
		s->fd_budget = c->max_connections;
		return 0;
	}
	if (c->max_connections_line != 0) {
		lurk_error("%s:%u: max-connections %u needs %llu open files, but the limit is %llu "
			   "and cannot be raised: raise it (ulimit -n, systemd's LimitNOFILE=) or "
			   "lower max-connections",
			c->path, c->max_connections_line, c->max_connections,
			(unsigned long long)need, (unsigned long long)rl.rlim_cur);
		return -1;
	}
	s->fd_budget = rl.rlim_cur > FD_RESERVE ? (unsigned)(rl.rlim_cur - FD_RESERVE) : 1;
	lurk_warn("open-file limit %llu: serving at most %u connections (max-connections "
		  "defaults to %u; raise the limit to allow them)",
		(unsigned long long)rl.rlim_cur, s->fd_budget, c->max_connections);
	return 0;
}

static int
write_pid(const char *path)
{
	FILE *f = fopen(path, "we");

	if (f == NULL) {
		lurk_error("pid-file %s: %s", path, strerror(errno));
		return -1;
	}
	fprintf(f, "%ld\n", (long)getpid());
	return fclose(f) == 0 ? 0 : -1;
}

static int
drop_privileges(const struct passwd *pw)
{
	if (setgroups(0, NULL) != 0 || initgroups(pw->pw_name, pw->pw_gid) != 0 ||
		setgid(pw->pw_gid) != 0 || setuid(pw->pw_uid) != 0) {
		lurk_error("cannot switch to user '%s': %s", pw->pw_name, strerror(errno));
		return -1;
	}
	if (pw->pw_uid != 0 && (setuid(0) == 0 || seteuid(0) == 0)) {
		lurk_error("privilege drop to '%s' did not hold", pw->pw_name);
		return -1;
	}
	/* setuid re-enables dumping; keep it off. */
	(void)prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
	lurk_info("serving as user %s", pw->pw_name);
	return 0;
}

static int
open_audit_file(const char *path)
{
	return open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOCTTY, 0640);
}

static int
audit_is_file(const struct lurkd_config *c)
{
	return c->audit_log != NULL && strcmp(c->audit_log, "syslog") != 0;
}

/*
 * Parent: reads the configuration and every file it names, and sends the
 * bundle (with a freshly opened audit log) to the child.
 */
static int
send_config(int sock, const char *path)
{
	struct lurkd_files *fs = lurkd_files_recorder();
	struct lurkd_config *c = NULL;
	uint8_t *bundle = NULL;
	size_t len = 0;
	char *err = malloc(ERR_MAX);
	int fd = -1, r = -1;

	if (fs == NULL || err == NULL)
		goto out;
	err[0] = '\0';
	if (lurkd_config_load(path, fs, 0, &c, err, ERR_MAX) != 0) {
		lurk_error("reload refused, keeping the running configuration:");
		log_lines("  ", err);
		goto out;
	}
	if (audit_is_file(c) && (fd = open_audit_file(c->audit_log)) < 0)
		lurk_error("audit log %s: cannot open: %s; the child keeps the old file",
			c->audit_log, strerror(errno));
	if (lurkd_files_bundle(fs, &bundle, &len) != 0) {
		lurk_error("configuration too large to hand over");
		goto out;
	}
	if (lurkd_privsep_send(sock, PRIVSEP_CONFIG, bundle, len, fd) != 0) {
		lurk_error("cannot reach the serving process: %s", strerror(errno));
		goto out;
	}
	r = 0;
out:
	if (bundle != NULL) {
		lurk_wipe(bundle, len);
		free(bundle);
	}
	if (fd >= 0)
		close(fd);
	lurkd_config_unref(c);
	lurkd_files_free(fs);
	free(err);
	return r;
}

static int
signal_fd(sigset_t *sigs)
{
	int fd = signalfd(-1, sigs, SFD_CLOEXEC);

	if (fd < 0)
		lurk_error("signalfd: %s", strerror(errno));
	return fd;
}

static int
take_signal(int sfd)
{
	struct signalfd_siginfo si;
	ssize_t n;

	do
		n = read(sfd, &si, sizeof(si));
	while (n < 0 && errno == EINTR);
	return n == (ssize_t)sizeof(si) ? (int)si.ssi_signo : 0;
}

/*
 * Parent's loop: SIGHUP (or the child asking) → a new bundle, one at a time;
 * SIGTERM/SIGINT → the child stops; the child's exit → we exit with it.
 */
static int
parent_loop(pid_t child, int sock, int sfd, const char *path, const char *pid_file)
{
	int want = 0, in_flight = 1, stopping = 0, status = 0, ready = 0;

	for (;;) {
		struct pollfd pf[2] = {
			{.fd = sfd, .events = POLLIN}, {.fd = sock, .events = POLLIN}};
		int n = poll(pf, sock >= 0 ? 2 : 1, -1);

		if (n < 0 && errno != EINTR)
			break;
		if (pf[0].revents & POLLIN) {
			int sig = take_signal(sfd);
			if (sig == SIGHUP && !stopping) {
				lurk_info("SIGHUP: reloading %s", path);
				want = 1;
			} else if ((sig == SIGTERM || sig == SIGINT) && !stopping) {
				lurk_info("shutting down: finishing requests in flight");
				lurkd_notify_stopping();
				stopping = 1;
				(void)kill(child, SIGTERM);
			} else if (sig == SIGCHLD) {
				pid_t w = waitpid(child, &status, WNOHANG);
				if (w == child)
					break;
			}
		}
		if (sock >= 0 && (pf[1].revents & (POLLIN | POLLHUP | POLLERR))) {
			uint8_t type = 0, *body = NULL;
			size_t len = 0;
			int fd = -1;
			if (lurkd_privsep_recv(sock, 0, &type, &body, &len, &fd) != 0) {
				close(sock); /* the child is gone: wait for SIGCHLD */
				sock = -1;
			} else if (type == PRIVSEP_DONE) {
				in_flight = 0;
				/* The first DONE: the child has its keys; lurkd is ready. */
				if (!ready && pid_file != NULL && write_pid(pid_file) != 0 &&
					!stopping) {
					stopping = 1;
					(void)kill(child, SIGTERM);
				}
				if (!stopping)
					lurkd_notify_ready(
						ready ? "serving (reload finished)" : "serving");
				ready = 1;
			} else if (type == PRIVSEP_RELOAD) {
				want = 1;
			}
			if (fd >= 0)
				close(fd);
		}
		if (want && !in_flight && !stopping && sock >= 0) {
			want = 0;
			lurkd_notify_reloading();
			if (send_config(sock, path) == 0)
				in_flight = 1;
			else
				lurkd_notify_ready("serving (reload refused, previous "
						   "configuration kept)");
		}
	}
	if (sock >= 0)
		close(sock);
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0 && stopping)
		return 0;
	if (!stopping)
		lurk_error("the serving process ended (%s %d)",
			WIFSIGNALED(status) ? "signal" : "status",
			WIFSIGNALED(status) ? WTERMSIG(status) : WEXITSTATUS(status));
	return 1;
}

/* Child (privilege-separated): the first configuration, from the parent. */
static int
first_config(struct lurkd *s, int sock, const char *path, int *audit_fd)
{
	uint8_t type = 0, *body = NULL;
	size_t len = 0;
	struct lurkd_files *fs;
	char *err = malloc(ERR_MAX);
	int r = -1;

	*audit_fd = -1;
	if (err == NULL ||
		lurkd_privsep_recv(sock, LURKD_FILES_MAX_BUNDLE, &type, &body, &len, audit_fd) !=
			0 ||
		type != PRIVSEP_CONFIG) {
		lurk_error("no configuration from the privileged parent");
		goto out;
	}
	fs = lurkd_files_from_bundle(body, len);
	err[0] = '\0';
	if (fs == NULL) {
		lurk_error("malformed configuration from the privileged parent");
	} else if (lurkd_config_load(path, fs, LURKD_CONF_KEYS, &s->cfg, err, ERR_MAX) != 0) {
		log_lines("", err);
	} else if (lurkd_privsep_send(sock, PRIVSEP_DONE, NULL, 0, -1) == 0) {
		r = 0;
	}
	lurkd_files_free(fs);
out:
	if (body != NULL) {
		lurk_wipe(body, len);
		free(body);
	}
	free(err);
	return r;
}

/* Child: a new configuration from the parent, then DONE. */
static int
child_reload(struct lurkd *s, int sock, const char *path)
{
	uint8_t type = 0, *body = NULL;
	size_t len = 0;
	int fd = -1, r;

	if ((r = lurkd_privsep_recv(sock, LURKD_FILES_MAX_BUNDLE, &type, &body, &len, &fd)) != 0)
		return r;
	if (type == PRIVSEP_CONFIG) {
		struct lurkd_files *fs = lurkd_files_from_bundle(body, len);
		if (fs == NULL)
			lurk_error("malformed configuration from the privileged parent");
		else
			(void)reload(s, path, fs);
		lurkd_files_free(fs);
		if (fd >= 0) {
			lurkd_audit_replace_fd(s->audit, fd);
			fd = -1;
		}
	}
	if (body != NULL) {
		lurk_wipe(body, len);
		free(body);
	}
	if (fd >= 0)
		close(fd);
	return lurkd_privsep_send(sock, PRIVSEP_DONE, NULL, 0, -1);
}

/*
 * Serves until SIGTERM/SIGINT (or the parent's end). sock is the channel to
 * the privileged parent, or -1 when lurkd is one process.
 */
static int
serve(struct lurkd *s, const char *path, int sock, int sfd)
{
	lurk_info("lurkd ready: %zu keys, %zu clients, %u workers", s->cfg->nkeys, s->cfg->nclients,
		s->nworkers);
	if (sock < 0) /* privilege separated, the parent tells the service manager */
		lurkd_notify_ready("serving");
	for (;;) {
		struct pollfd pf[2] = {
			{.fd = sfd, .events = POLLIN}, {.fd = sock, .events = POLLIN}};
		int n = poll(pf, sock >= 0 ? 2 : 1, -1);

		if (n < 0 && errno != EINTR)
			return 1;
		if (pf[0].revents & POLLIN) {
			int sig = take_signal(sfd);
			if (sig == SIGHUP && sock >= 0) {
				/* Only the parent can read the files: ask it. */
				if (lurkd_privsep_send(sock, PRIVSEP_RELOAD, NULL, 0, -1) != 0)
					return 1;
			} else if (sig == SIGHUP) {
				int r;
				lurk_info("SIGHUP: reloading %s", path);
				lurkd_notify_reloading();
				r = reload(s, path, NULL);
				lurkd_audit_reopen(s->audit);
				lurkd_notify_ready(r == 0 ? "serving (reload done)"
							  : "serving (reload refused, previous "
							    "configuration kept)");
			} else if (sig == SIGTERM || sig == SIGINT) {
				if (sock < 0) {
					lurk_info("shutting down: finishing requests in flight");
					lurkd_notify_stopping();
				}
				return 0;
			}
		}
		if (sock >= 0 && (pf[1].revents & (POLLIN | POLLHUP | POLLERR)) &&
			child_reload(s, sock, path) != 0) {
			lurk_error("the privileged parent is gone: shutting down");
			return 1;
		}
	}
}

int
main(int argc, char **argv)
{
	static const struct option opts[] = {
		{"config", required_argument, NULL, 'c'},
		{"check-config", required_argument, NULL, 'C'},
		{"syslog", no_argument, NULL, 'S'},
		{"debug", no_argument, NULL, 'd'},
		{"pid-file", required_argument, NULL, 'p'},
		{"help", no_argument, NULL, 'h'},
		{"version", no_argument, NULL, 'V'},
		{NULL, 0, NULL, 0},
	};
	const char *path = DEFAULT_CONFIG, *check = NULL, *pid_file = NULL;
	int to_syslog = 0, level = LURK_LOG_INFO, opt, ret = 1, sfd = -1, sock = -1, audit_fd = -1;
	int privsep = 0;
	struct lurkd s;
	struct lurkd_config *boot = NULL;
	struct lurkd_files *rec = NULL;
	struct passwd *pw = NULL;
	char *unix_paths[LURKD_MAX_LISTEN] = {NULL};
	pid_t child = 0;
	sigset_t sigs;
	char *err = NULL;

	while ((opt = getopt_long(argc, argv, "c:hV", opts, NULL)) != -1) {
		switch (opt) {
		case 'c':
			path = optarg;
			break;
		case 'C':
			check = optarg;
			break;
		case 'S':
			to_syslog = 1;
			break;
		case 'd':
			level = LURK_LOG_DEBUG;
			break;
		case 'p':
			pid_file = optarg;
			break;
		case 'h':
			usage(stdout);
			return 0;
		case 'V':
			printf("lurkd %s\n", PACKAGE_VERSION);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind != argc) {
		usage(stderr);
		return 2;
	}
	/* Before anything can start a thread: the signals we act on are ours to take. */
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGHUP);
	sigaddset(&sigs, SIGTERM);
	sigaddset(&sigs, SIGINT);
	sigaddset(&sigs, SIGCHLD);
	sigprocmask(SIG_BLOCK, &sigs, NULL);
	signal(SIGPIPE, SIG_IGN);

	lurk_log_init("lurkd", to_syslog ? LURK_LOG_SYSLOG : LURK_LOG_STDERR, level);
	harden();
	if (lurk_mem_init() != 0 || lurk_keystore_init() != 0) {
		lurk_error("library initialisation failed");
		return 1;
	}
	if (check != NULL)
		return check_config(check);
	if ((err = malloc(ERR_MAX)) == NULL)
		return 1;
	err[0] = '\0';
	memset(&s, 0, sizeof(s));
	pthread_mutex_init(&s.cfg_lock, NULL);
	atomic_init(&s.generation, 0);
	atomic_init(&s.stopping, 0);

	/* Read everything once as the starting user: the settings, and the bundle. */
	if ((rec = lurkd_files_recorder()) == NULL ||
		lurkd_config_load(path, rec, 0, &boot, err, ERR_MAX) != 0) {
		log_lines("", err);
		goto out;
	}
	if (boot->user != NULL && (pw = getpwnam(boot->user)) == NULL) {
		lurk_error("user '%s' does not exist", boot->user);
		goto out;
	}
	if (pw != NULL && getuid() != pw->pw_uid && getuid() != 0) {
		lurk_error("user = %s: lurkd runs as uid %ld and cannot switch (start it as root, "
			   "or as that user)",
			boot->user, (long)getuid());
		goto out;
	}
	if (set_fd_budget(&s, boot) != 0)
		goto out;
	privsep = pw != NULL && getuid() == 0 && pw->pw_uid != 0;
	if (!privsep) {
		/* One process: load the keys from what was read, before anyone can connect. */
		struct lurkd_files *fs;
		uint8_t *bundle = NULL;
		size_t len = 0;
		int r = -1;
		if (lurkd_files_bundle(rec, &bundle, &len) == 0 &&
			(fs = lurkd_files_from_bundle(bundle, len)) != NULL) {
			r = lurkd_config_load(path, fs, LURKD_CONF_KEYS, &s.cfg, err, ERR_MAX);
			lurkd_files_free(fs);
		}
		if (bundle != NULL) {
			lurk_wipe(bundle, len);
			free(bundle);
		}
		if (r != 0) {
			log_lines("", err);
			goto out;
		}
	}
	for (size_t i = 0; i < boot->nlisten; i++) {
		char where[300];
		lurkd_listen_describe(&boot->listen[i], where, sizeof(where));
		/* Privilege separated: the sockets belong to the user that serves. */
		if (lurkd_listen_open(&boot->listen[i], boot->socket_mode, privsep ? pw : NULL,
			    &s.listen_fds[i], err, ERR_MAX) != 0) {
			lurk_error("cannot listen on %s: %s", where, err);
			goto out;
		}
		s.nlisten++;
		if (boot->listen[i].kind == LURKD_LISTEN_UNIX)
			unix_paths[i] = strdup(boot->listen[i].path);
		lurk_info("listening on %s", where);
	}
	if (lurkd_metrics_open(boot, boot->socket_mode, privsep ? pw : NULL, err, ERR_MAX) != 0) {
		lurk_error("cannot serve metrics: %s", err);
		goto out;
	}
	/*
	 * The pid file says lurkd is ready: here, keys loaded and sockets open;
	 * privilege separated, the parent writes it when the child has loaded
	 * its first configuration (parent_loop).
	 */
	if (!privsep && pid_file != NULL && write_pid(pid_file) != 0)
		goto out;
	if ((sfd = signal_fd(&sigs)) < 0)
		goto out;

	if (privsep) {
		int sp[2];
		if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sp) != 0) {
			lurk_error("socketpair: %s", strerror(errno));
			goto out;
		}
		if ((child = fork()) < 0) {
			lurk_error("fork: %s", strerror(errno));
			goto out;
		}
		if (child > 0) {
			/* The parent: files only; it serves nobody. */
			close(sp[1]);
			for (size_t i = 0; i < s.nlisten; i++)
				close(s.listen_fds[i]);
			s.nlisten = 0;
			lurkd_metrics_close_fd();
			if (send_config(sp[0], path) != 0) {
				(void)kill(child, SIGTERM);
				close(sp[0]);
				(void)waitpid(child, NULL, 0);
				goto cleanup;
			}
			ret = parent_loop(child, sp[0], sfd, path, pid_file);
			goto cleanup;
		}
		close(sp[0]);
		sock = sp[1];
		pid_file = NULL; /* the parent's to remove */
		for (size_t i = 0; i < LURKD_MAX_LISTEN; i++) {
			free(unix_paths[i]);
			unix_paths[i] = NULL;
		}
		if (drop_privileges(pw) != 0 || first_config(&s, sock, path, &audit_fd) != 0)
			goto out;
		if (audit_fd >= 0 && lurkd_audit_open_fd(s.cfg->audit_log, audit_fd,
					     s.cfg->audit_sync, &s.audit) != 0)
			goto out;
	}
	lurkd_files_free(rec);
	rec = NULL;
	lurkd_config_unref(boot);
	boot = NULL;
	if (s.audit == NULL && s.cfg->audit_log != NULL &&
		(audit_fd < 0 || !audit_is_file(s.cfg)) &&
		lurkd_audit_open(s.cfg->audit_log, s.cfg->audit_sync, &s.audit, err, ERR_MAX) !=
			0) {
		lurk_error("%s", err);
		goto out;
	}
	if (lurk_replay_new(s.cfg->replay_cache, s.cfg->replay_window_s, &s.replay) != 0) {
		lurk_error("cannot allocate the replay cache");
		goto out;
	}
	lurkd_metrics_bind(s.cfg);
	if (lurkd_metrics_start(&s) != 0)
		goto out;
	if (lurkd_workers_start(&s, s.cfg->workers) != 0) {
		lurk_error("cannot start workers");
		atomic_store(&s.stopping, 1);
		lurkd_workers_wake(&s);
		lurkd_workers_join(&s);
		goto out;
	}
	ret = serve(&s, path, sock, sfd);
	atomic_store(&s.stopping, 1);
	lurkd_workers_wake(&s);
	lurkd_workers_join(&s);
out:
	lurkd_metrics_stop();
	for (size_t i = 0; i < s.nlisten; i++)
		close(s.listen_fds[i]);
	s.nlisten = 0;
	lurkd_audit_close(s.audit);
	lurk_replay_free(s.replay);
	lurkd_config_unref(s.cfg);
	if (sock >= 0)
		close(sock);
cleanup:
	for (size_t i = 0; i < LURKD_MAX_LISTEN; i++) {
		if (unix_paths[i] != NULL)
			(void)unlink(unix_paths[i]);
		free(unix_paths[i]);
	}
	if (child != 0 || sock < 0)
		lurkd_metrics_unlink();
	lurkd_files_free(rec);
	lurkd_config_unref(boot);
	lurk_keystore_deinit();
	if (pid_file != NULL)
		(void)unlink(pid_file);
	if (sfd >= 0)
		close(sfd);
	free(err);
	lurk_info(child == 0 && sock >= 0 ? "serving process stopped" : "lurkd stopped");
	return ret;
}
