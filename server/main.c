/*
 * lurkd: the key server. Holds private keys, authenticates clients over Noise
 * IK, and signs or decrypts for them what a TLS handshake needs.
 */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <grp.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <unistd.h>

#include <gnutls/gnutls.h>

#include "err.h"
#include "keystore.h"
#include "listen.h"
#include "log.h"
#include "mem.h"
#include "replay.h"
#include "server.h"

#define DEFAULT_CONFIG LURK_SYSCONFDIR "/lurk/lurkd.conf"

static void
usage(FILE *f)
{
	fprintf(f,
		"usage: lurkd [-c FILE] [--syslog] [--debug]\n"
		"       lurkd --check-config FILE\n"
		"  -c, --config FILE     configuration (default %s)\n"
		"      --check-config F  load and check F (keys included), then exit\n"
		"      --syslog          log to syslog instead of stderr\n"
		"      --debug           debug logging (or LURK_DEBUG=server,chan,...)\n"
		"      --pid-file FILE   write the process id to FILE\n",
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

static int
drop_privileges(const char *user)
{
	struct passwd *pw;

	if (user == NULL)
		return 0;
	if ((pw = getpwnam(user)) == NULL) {
		lurk_error("user '%s' does not exist", user);
		return -1;
	}
	if (getuid() == pw->pw_uid)
		return 0;
	if (initgroups(pw->pw_name, pw->pw_gid) != 0 || setgid(pw->pw_gid) != 0 ||
		setuid(pw->pw_uid) != 0) {
		lurk_error("cannot switch to user '%s': %s", user, strerror(errno));
		return -1;
	}
	if (pw->pw_uid != 0 && setuid(0) == 0) {
		lurk_error("privilege drop to '%s' did not hold", user);
		return -1;
	}
	/* setuid re-enables dumping; keep it off. */
	(void)prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
	lurk_info("running as user %s", user);
	return 0;
}

static int
check_config(const char *path)
{
	struct lurkd_config *c = NULL;
	char err[1024];

	if (lurkd_config_load(path, 1, &c, err, sizeof(err)) != 0) {
		fprintf(stderr, "lurkd: %s\n", err);
		return 1;
	}
	printf("%s: ok (%zu listen, %zu keys, %zu clients)\n", path, c->nlisten, c->nkeys,
		c->nclients);
	lurkd_config_unref(c);
	return 0;
}

static void
reload(struct lurkd *s, const char *path)
{
	struct lurkd_config *c = NULL, *old;
	size_t old_nlisten;
	char err[1024];

	if (lurkd_config_load(path, 1, &c, err, sizeof(err)) != 0) {
		lurk_error("reload refused, keeping the running configuration: %s", err);
		return;
	}
	pthread_mutex_lock(&s->cfg_lock);
	old = s->cfg;
	old_nlisten = old->nlisten;
	c->generation = old->generation + 1;
	s->cfg = c;
	pthread_mutex_unlock(&s->cfg_lock);
	atomic_store(&s->generation, c->generation);
	if (c->nlisten != old_nlisten)
		lurk_warn("listen addresses are read at start only: restart lurkd to change them");
	lurkd_config_unref(old);
	lurkd_audit_reopen(s->audit);
	lurkd_workers_wake(s);
	lurk_info("configuration reloaded: %zu keys, %zu clients", c->nkeys, c->nclients);
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
		{NULL, 0, NULL, 0},
	};
	const char *path = DEFAULT_CONFIG, *check = NULL, *pid_file = NULL;
	int to_syslog = 0, level = LURK_LOG_INFO, opt, ret = 1;
	struct lurkd s;
	char *unix_paths[LURKD_MAX_LISTEN] = {NULL};
	sigset_t sigs;
	char err[1024];

	while ((opt = getopt_long(argc, argv, "c:h", opts, NULL)) != -1) {
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
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind != argc) {
		usage(stderr);
		return 2;
	}
	lurk_log_init("lurkd", to_syslog ? LURK_LOG_SYSLOG : LURK_LOG_STDERR, level);
	harden();
	if (lurk_mem_init() != 0 || lurk_keystore_init() != 0) {
		lurk_error("library initialisation failed");
		return 1;
	}
	if (check != NULL)
		return check_config(check);

	memset(&s, 0, sizeof(s));
	pthread_mutex_init(&s.cfg_lock, NULL);
	if (lurkd_config_load(path, 1, &s.cfg, err, sizeof(err)) != 0) {
		lurk_error("%s", err);
		return 1;
	}
	atomic_init(&s.generation, 0);
	atomic_init(&s.stopping, 0);
	if (lurk_replay_new(s.cfg->replay_cache, s.cfg->replay_window_s, &s.replay) != 0) {
		lurk_error("cannot allocate the replay cache");
		goto out;
	}
	if (lurkd_audit_open(s.cfg->audit_log, &s.audit, err, sizeof(err)) != 0) {
		lurk_error("%s", err);
		goto out;
	}
	for (size_t i = 0; i < s.cfg->nlisten; i++) {
		char where[300];
		lurkd_listen_describe(&s.cfg->listen[i], where, sizeof(where));
		if (lurkd_listen_open(&s.cfg->listen[i], s.cfg->socket_mode, &s.listen_fds[i], err,
			    sizeof(err)) != 0) {
			lurk_error("cannot listen on %s: %s", where, err);
			goto out;
		}
		s.nlisten++;
		if (s.cfg->listen[i].kind == LURKD_LISTEN_UNIX)
			unix_paths[i] = strdup(s.cfg->listen[i].path);
		lurk_info("listening on %s", where);
	}
	/* The pid file is written while we may still write where root can. */
	if (pid_file != NULL && write_pid(pid_file) != 0)
		goto out;
	if (drop_privileges(s.cfg->user) != 0)
		goto out;

	/* Signals go to this thread only; workers inherit the mask. */
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGHUP);
	sigaddset(&sigs, SIGTERM);
	sigaddset(&sigs, SIGINT);
	pthread_sigmask(SIG_BLOCK, &sigs, NULL);
	signal(SIGPIPE, SIG_IGN);
	if (lurkd_workers_start(&s, s.cfg->workers) != 0) {
		lurk_error("cannot start workers");
		atomic_store(&s.stopping, 1);
		lurkd_workers_wake(&s);
		lurkd_workers_join(&s);
		goto out;
	}
	lurk_info("lurkd ready: %zu keys, %zu clients, %u workers", s.cfg->nkeys, s.cfg->nclients,
		s.nworkers);
	for (;;) {
		int sig = sigwaitinfo(&sigs, NULL);
		if (sig == SIGHUP) {
			lurk_info("SIGHUP: reloading %s", path);
			reload(&s, path);
		} else if (sig == SIGTERM || sig == SIGINT) {
			lurk_info("shutting down: finishing requests in flight");
			break;
		}
	}
	atomic_store(&s.stopping, 1);
	lurkd_workers_wake(&s);
	lurkd_workers_join(&s);
	ret = 0;
out:
	for (size_t i = 0; i < s.nlisten; i++) {
		close(s.listen_fds[i]);
		if (unix_paths[i] != NULL)
			(void)unlink(unix_paths[i]);
		free(unix_paths[i]);
	}
	lurkd_audit_close(s.audit);
	lurk_replay_free(s.replay);
	lurkd_config_unref(s.cfg);
	lurk_keystore_deinit();
	if (pid_file != NULL)
		(void)unlink(pid_file);
	lurk_info("lurkd stopped");
	return ret;
}
