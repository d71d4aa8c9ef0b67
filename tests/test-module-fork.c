/*
 * Fork while other threads use the module: the pool must work in the child
 * whatever the parent's threads were doing at the moment of the fork, with
 * or without the child calling C_Initialize again (GnuTLS does, most hosts
 * do not). Each child signs once with a bound on its time; a child that does
 * not finish is killed and reported with the lock it waits on, read from
 * /proc (a futex address in the module's static data is lp.lock or the
 * session table's lock; one elsewhere is the pool's lock or a session's).
 *
 * /fork/pool-lock-held makes the bad moment certain: a thread holds the
 * pool's lock (found through the module's symbol table: lp.core given to
 * the core's own lc_core_pool; the pool's first member is the lock) for a
 * while, and the main thread forks then.
 * /fork/while-other-threads-sign is the same in the wild: threads sign
 * without pause and the main thread forks at random moments.
 * Run by test-module.sh against a real lurkd.
 */
#include "config.h"

#include <dlfcn.h>
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <link.h>
#include <pthread.h>
#include <semaphore.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "module.h"
#include "p11-test.h"
#include "tap.h"

#define SIGNERS       4
#define FORKS         50
#define HELD_FORKS    10
#define HOLD_US       20000
#define CHILD_BOUND_S 10 /* a child signs in milliseconds; this is a bound, not a target */

static volatile int stop;
static void *pool_lock; /* the pool's lock, when the symbol table gave it */

struct signer {
	pthread_t t;
	CK_SESSION_HANDLE s;
	CK_OBJECT_HANDLE k;
	int ok, bad;
};

static void *
signer(void *arg)
{
	struct signer *w = arg;
	CK_MECHANISM m = {CKM_ECDSA, NULL, 0};

	while (!__atomic_load_n(&stop, __ATOMIC_ACQUIRE)) {
		uint8_t h[32], sig[64];
		CK_ULONG n = sizeof(sig);
		randombytes_buf(h, sizeof(h));
		if (p11->C_SignInit(w->s, &m, w->k) == CKR_OK &&
			p11->C_Sign(w->s, h, 32, sig, &n) == CKR_OK && n == 64)
			w->ok++;
		else
			w->bad++;
	}
	return NULL;
}

/* The child: sign h with ec256 on a session of its own; the signature goes to fd. */
static int
child(int reinit, const uint8_t *h, int fd)
{
	uint8_t sig[64];
	int r;

	alarm(CHILD_BOUND_S + 5); /* the parent's watchdog kills first; this is a backstop */
	if ((r = p11_child_sign(reinit, h, sig)) != 0)
		return r;
	return write(fd, sig, 64) == 64 ? 0 : 16;
}

/* What a hung child waits on, from /proc/PID/syscall and dladdr. */
static void
describe_hang(pid_t pid, char *out, size_t len)
{
	char path[64], line[512] = "";
	unsigned long long nr = 0, a0 = 0;
	FILE *f;
	Dl_info di;

	snprintf(path, sizeof(path), "/proc/%d/syscall", (int)pid);
	if ((f = fopen(path, "r")) == NULL || fgets(line, sizeof(line), f) == NULL) {
		snprintf(out, len, "state unknown");
		if (f != NULL)
			fclose(f);
		return;
	}
	fclose(f);
	line[strcspn(line, "\n")] = '\0';
	if (sscanf(line, "%llu %llx", &nr, &a0) != 2) {
		snprintf(out, len, "syscall line '%s'", line);
		return;
	}
	/* The child is a copy of this process: the same addresses mean the same things. */
	if (pool_lock != NULL && a0 == (uintptr_t)pool_lock)
		snprintf(out, len, "syscall %llu on 0x%llx: the pool's lock", nr, a0);
	else if (dladdr((void *)(uintptr_t)a0, &di) != 0 && di.dli_fname != NULL &&
		 strstr(di.dli_fname, "lurk-pkcs11") != NULL)
		snprintf(out, len,
			"syscall %llu on 0x%llx, in the module's static data "
			"(lp.lock or the session table's lock)",
			nr, a0);
	else
		snprintf(out, len,
			"syscall %llu on 0x%llx, not the module's static data (the pool's "
			"lock or a session's)",
			nr, a0);
}

/* Waits for pid up to the bound; kills it if it is still there. 1 if it finished in time. */
static int
reap(pid_t pid, int *status, char *hang, size_t hang_len)
{
	int64_t end = now_ms() + CHILD_BOUND_S * 1000;
	pid_t r;

	while ((r = waitpid(pid, status, WNOHANG)) == 0 && now_ms() < end)
		usleep(2000);
	if (r == pid)
		return 1;
	describe_hang(pid, hang, hang_len);
	kill(pid, SIGKILL);
	(void)waitpid(pid, status, 0);
	return 0;
}

struct tally {
	int hung[2], failed[2], done[2];
};

/* One fork: the child signs (after C_Initialize if reinit); counts how it went. */
static void
fork_once(int i, int reinit, CK_SESSION_HANDLE s, struct tally *t)
{
	uint8_t h[32], sig[64];
	char hang[256];
	int status = 0, p[2];
	pid_t pid;

	randombytes_buf(h, sizeof(h));
	assert_num_eq(pipe(p), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		close(p[0]);
		_exit(child(reinit, h, p[1]));
	}
	close(p[1]);
	if (!reap(pid, &status, hang, sizeof(hang))) {
		t->hung[reinit]++;
		lurk_test_diag("fork %d (%s C_Initialize in the child): the child hung: %s", i,
			reinit ? "with" : "without", hang);
	} else if (!WIFEXITED(status) || WEXITSTATUS(status) != 0 ||
		   read(p[0], sig, sizeof(sig)) != (ssize_t)sizeof(sig) ||
		   !p11_verify(s, "ec256", CKM_ECDSA, h, 32, sig, 64)) {
		t->failed[reinit]++;
		lurk_test_diag("fork %d (%s C_Initialize in the child): status 0x%x", i,
			reinit ? "with" : "without", status);
	} else {
		t->done[reinit]++;
	}
	close(p[0]);
}

static void
tally_check(const struct tally *t, int forks)
{
	lurk_test_diag("children signed: %d without C_Initialize, %d with; hung: %d and %d; "
		       "failed: %d and %d",
		t->done[0], t->done[1], t->hung[0], t->hung[1], t->failed[0], t->failed[1]);
	assert_num_eq(t->hung[0] + t->hung[1], 0);
	assert_num_eq(t->failed[0] + t->failed[1], 0);
	assert_num_eq(t->done[0] + t->done[1], forks);
}

/*
 * The address of a symbol of the loaded module of the given type
 * (STT_OBJECT, STT_FUNC), local ones included, from the .symtab of its
 * file; NULL when the file has none (stripped).
 */
static void *
module_symbol(const char *name, int type)
{
	const char *path = getenv("LURK_TEST_MODULE");
	struct link_map *lm = NULL;
	void *h, *found = NULL;
	const uint8_t *f;
	const ElfW(Ehdr) * eh;
	const ElfW(Shdr) * sh;
	struct stat st;
	int fd;

	if (path == NULL || (h = dlopen(path, RTLD_NOW | RTLD_NOLOAD)) == NULL)
		return NULL;
	if (dlinfo(h, RTLD_DI_LINKMAP, &lm) != 0 || (fd = open(path, O_RDONLY)) < 0) {
		dlclose(h);
		return NULL;
	}
	if (fstat(fd, &st) != 0 ||
		(f = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0)) == MAP_FAILED) {
		close(fd);
		dlclose(h);
		return NULL;
	}
	eh = (const ElfW(Ehdr) *)f;
	sh = (const ElfW(Shdr) *)(f + eh->e_shoff);
	for (size_t i = 0; i < eh->e_shnum && found == NULL; i++) {
		const ElfW(Sym) * sym;
		const char *str;
		if (sh[i].sh_type != SHT_SYMTAB)
			continue;
		sym = (const ElfW(Sym) *)(f + sh[i].sh_offset);
		str = (const char *)(f + sh[sh[i].sh_link].sh_offset);
		for (size_t j = 0; j < sh[i].sh_size / sizeof(*sym); j++)
			if (ELF64_ST_TYPE(sym[j].st_info) == type && sym[j].st_shndx != 0 &&
				strcmp(str + sym[j].st_name, name) == 0) {
				found = (char *)lm->l_addr + sym[j].st_value;
				break;
			}
	}
	munmap((void *)f, (size_t)st.st_size);
	close(fd);
	dlclose(h);
	return found;
}

/*
 * The client core's pool in the loaded module: its lp.core through its own
 * lc_core_pool (the module keeps no copy of the pointer). NULL when the
 * module has no symbol table.
 */
static void *
module_pool(void)
{
	struct lp_state *st = module_symbol("lp", STT_OBJECT);
	void *fn = module_symbol("lc_core_pool", STT_FUNC);
	__typeof__(lc_core_pool) *pool_of;

	if (st == NULL || fn == NULL || st->core == NULL)
		return NULL;
	memcpy(&pool_of, &fn, sizeof(pool_of)); /* object to function pointer, as dlsym's */
	return pool_of(st->core);
}

struct holder {
	pthread_t t;
	pthread_mutex_t *lock;
	sem_t held, done;
};

/*
 * Another thread of the host, in the middle of the pool's bookkeeping. It
 * lives on until the child is done, so that nothing but the lock is in
 * play at the fork (a thread that ends frees memory; a sanitizer's
 * allocator is not safe across a fork made meanwhile).
 */
static void *
hold_lock(void *arg)
{
	struct holder *h = arg;

	pthread_mutex_lock(h->lock);
	sem_post(&h->held);
	usleep(HOLD_US);
	pthread_mutex_unlock(h->lock);
	while (sem_wait(&h->done) != 0)
		;
	return NULL;
}

static void
test_fork_pool_lock_held(void)
{
	void *pool;
	struct holder h;
	struct tally t;
	CK_SESSION_HANDLE s;
	uint8_t hash[32];
	int64_t t0;

	p11_init();
	s = p11_session();
	randombytes_buf(hash, sizeof(hash));
	/* The parent has a pooled connection the children must not touch. */
	(void)p11_find(s, CKO_PRIVATE_KEY, "ec256");
	if ((pool = module_pool()) == NULL) {
		lurk_test_diag("the module has no symbol table: this case cannot run");
		p11_fini();
		return;
	}
	memset(&t, 0, sizeof(t));
	h.lock = pool; /* struct lc_pool begins with its lock */
	pool_lock = h.lock;
	t0 = now_ms();
	for (int i = 0; i < HELD_FORKS; i++) {
		assert_num_eq(sem_init(&h.held, 0, 0), 0);
		assert_num_eq(sem_init(&h.done, 0, 0), 0);
		assert_num_eq(pthread_create(&h.t, NULL, hold_lock, &h), 0);
		while (sem_wait(&h.held) != 0)
			;
		fork_once(i, i % 2, s, &t);
		sem_post(&h.done);
		pthread_join(h.t, NULL);
		sem_destroy(&h.held);
		sem_destroy(&h.done);
	}
	lurk_test_diag("%d forks while another thread held the pool's lock: %lld ms", HELD_FORKS,
		(long long)(now_ms() - t0));
	p11_fini();
	tally_check(&t, HELD_FORKS);
}

static void
test_fork_while_signing(void)
{
	struct signer w[SIGNERS];
	struct tally t;
	CK_SESSION_HANDLE s;
	CK_OBJECT_HANDLE k;
	int ok = 0, bad = 0;
	int64_t t0;

#ifdef __SANITIZE_ADDRESS__
	/*
	 * GCC 12's AddressSanitizer does not lock its allocator across fork:
	 * a child forked while another thread frees memory can hang in it,
	 * whatever the module does. The case above has no such thread.
	 */
	lurk_test_diag("skipped under AddressSanitizer (its allocator is not fork-safe)");
	return;
#endif
	p11_init();
	s = p11_session();
	k = p11_find(s, CKO_PRIVATE_KEY, "ec256");
	pool_lock = module_pool();
	memset(w, 0, sizeof(w));
	memset(&t, 0, sizeof(t));
	for (int i = 0; i < SIGNERS; i++) {
		w[i].s = p11_session();
		w[i].k = k;
	}
	stop = 0;
	for (int i = 0; i < SIGNERS; i++)
		assert_num_eq(pthread_create(&w[i].t, NULL, signer, &w[i]), 0);
	usleep(50000); /* the pool is warm and every signer is in its loop */
	t0 = now_ms();
	for (int i = 0; i < FORKS; i++) {
		/* A random moment in the signers' loop. */
		usleep((useconds_t)randombytes_uniform(3000));
		fork_once(i, i % 2, s, &t);
	}
	__atomic_store_n(&stop, 1, __ATOMIC_RELEASE);
	for (int i = 0; i < SIGNERS; i++) {
		pthread_join(w[i].t, NULL);
		ok += w[i].ok;
		bad += w[i].bad;
	}
	lurk_test_diag("%d forks in %lld ms while %d threads signed (%d signatures, %d failed)",
		FORKS, (long long)(now_ms() - t0), SIGNERS, ok, bad);
	p11_fini();
	tally_check(&t, FORKS);
	/* The parent's channels were not touched by the children. */
	assert_num_eq(bad, 0);
	assert_num_cmp(ok, >, 0);
}

int
main(int argc, char **argv)
{
	lurk_test(test_fork_pool_lock_held, "/fork/pool-lock-held");
	lurk_test(test_fork_while_signing, "/fork/while-other-threads-sign");
	return lurk_test_run(argc, argv);
}
