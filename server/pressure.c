#include "config.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "pressure.h"

struct lurkd_pressure {
	pthread_mutex_t lock;
	lurkd_pressure_wake_fn wake;
	struct lurkd_pnode *hs_head, *hs_tail; /* oldest first */
	struct lurkd_pnode *fm_head, *fm_tail; /* oldest partial frame first */
	size_t fm_total;                       /* sum of charged */
	atomic_size_t freed;
};

int
lurkd_pressure_new(lurkd_pressure_wake_fn wake, struct lurkd_pressure **out)
{
	struct lurkd_pressure *p;

	*out = NULL;
	if ((p = calloc(1, sizeof(*p))) == NULL)
		return LURK_ERR_ALLOC;
	pthread_mutex_init(&p->lock, NULL);
	p->wake = wake;
	atomic_init(&p->freed, 0);
	*out = p;
	return 0;
}

void
lurkd_pressure_free(struct lurkd_pressure *p)
{
	if (p == NULL)
		return;
	pthread_mutex_destroy(&p->lock);
	free(p);
}

static void
hs_unlink_inlock(struct lurkd_pressure *p, struct lurkd_pnode *n)
{
	if (!n->on_hs)
		return;
	if (n->hs_prev != NULL)
		n->hs_prev->hs_next = n->hs_next;
	else
		p->hs_head = n->hs_next;
	if (n->hs_next != NULL)
		n->hs_next->hs_prev = n->hs_prev;
	else
		p->hs_tail = n->hs_prev;
	n->hs_prev = n->hs_next = NULL;
	n->on_hs = 0;
}

static void
fm_list_unlink_inlock(struct lurkd_pressure *p, struct lurkd_pnode *n)
{
	if (!n->on_fm)
		return;
	if (n->fm_prev != NULL)
		n->fm_prev->fm_next = n->fm_next;
	else
		p->fm_head = n->fm_next;
	if (n->fm_next != NULL)
		n->fm_next->fm_prev = n->fm_prev;
	else
		p->fm_tail = n->fm_prev;
	n->fm_prev = n->fm_next = NULL;
	n->on_fm = 0;
}

/* Off the ledger: its bytes leave the total (and count as freed). */
static void
fm_unlink_inlock(struct lurkd_pressure *p, struct lurkd_pnode *n)
{
	fm_list_unlink_inlock(p, n);
	p->fm_total -= n->charged;
	if (n->charged != 0)
		atomic_fetch_add(&p->freed, n->charged);
	n->charged = 0;
}

static void
fm_append_inlock(struct lurkd_pressure *p, struct lurkd_pnode *n)
{
	n->fm_next = NULL;
	n->fm_prev = p->fm_tail;
	if (p->fm_tail != NULL)
		p->fm_tail->fm_next = n;
	else
		p->fm_head = n;
	p->fm_tail = n;
	n->on_fm = 1;
}

static void
note_inlock(struct lurkd_evicted *ev, const struct lurkd_pnode *n, size_t bytes)
{
	if (ev->count++ != 0)
		return;
	snprintf(ev->peer, sizeof(ev->peer), "%s", n->peer != NULL ? n->peer : "?");
	ev->born = n->born;
	ev->fm_started = n->fm_started;
	ev->bytes = bytes;
}

/* Takes n off the queue and the ledger, marked for its owner to close. */
static void
drop_inlock(struct lurkd_pressure *p, struct lurkd_pnode *n)
{
	hs_unlink_inlock(p, n);
	fm_unlink_inlock(p, n);
	atomic_store(&n->evicted, 1);
}

/* The same for another worker's (or this one's) connection: its owner is woken. */
static void
evict_inlock(struct lurkd_pressure *p, struct lurkd_pnode *n, struct lurkd_evicted *ev)
{
	note_inlock(ev, n, n->charged);
	drop_inlock(p, n);
	if (p->wake != NULL && n->owner != NULL)
		p->wake(n->owner);
}

void
lurkd_pressure_hs_add(struct lurkd_pressure *p, struct lurkd_pnode *n)
{
	pthread_mutex_lock(&p->lock);
	n->hs_next = NULL;
	n->hs_prev = p->hs_tail;
	if (p->hs_tail != NULL)
		p->hs_tail->hs_next = n;
	else
		p->hs_head = n;
	p->hs_tail = n;
	n->on_hs = 1;
	pthread_mutex_unlock(&p->lock);
	n->hs_mine = 1;
}

void
lurkd_pressure_set_owner(
	struct lurkd_pressure *p, struct lurkd_pnode *n, struct lurkd_worker *owner)
{
	pthread_mutex_lock(&p->lock);
	n->owner = owner;
	pthread_mutex_unlock(&p->lock);
}

int
lurkd_pressure_hs_done(struct lurkd_pressure *p, struct lurkd_pnode *n)
{
	if (n->hs_mine) {
		pthread_mutex_lock(&p->lock);
		hs_unlink_inlock(p, n);
		pthread_mutex_unlock(&p->lock);
		n->hs_mine = 0;
	}
	return atomic_load(&n->evicted) ? LURK_ERR_BUSY : 0;
}

int
lurkd_pressure_evict_oldest(struct lurkd_pressure *p, struct lurkd_evicted *ev)
{
	int r = 0;

	memset(ev, 0, sizeof(*ev));
	pthread_mutex_lock(&p->lock);
	if (p->hs_head != NULL) {
		evict_inlock(p, p->hs_head, ev);
		r = 1;
	}
	pthread_mutex_unlock(&p->lock);
	return r;
}

int
lurkd_pressure_charge(struct lurkd_pressure *p, struct lurkd_pnode *n, size_t held, time_t started,
	size_t budget, struct lurkd_evicted *ev)
{
	int r = 0;

	memset(ev, 0, sizeof(*ev));
	if (held == 0 && !n->fm_mine)
		return atomic_load(&n->evicted) ? LURK_ERR_BUSY : 0;
	pthread_mutex_lock(&p->lock);
	if (atomic_load(&n->evicted)) {
		r = LURK_ERR_BUSY;
		goto out;
	}
	if (held == 0) {
		fm_unlink_inlock(p, n);
		n->fm_mine = 0;
		goto out;
	}
	/* More than the whole budget: this one goes, and nobody else for it. */
	if (held > budget) {
		note_inlock(ev, n, held);
		drop_inlock(p, n);
		r = LURK_ERR_BUSY;
		goto out;
	}
	/* A frame that started later than the one on record goes to the end. */
	if (n->on_fm && n->fm_started != started)
		fm_list_unlink_inlock(p, n);
	if (!n->on_fm)
		fm_append_inlock(p, n);
	n->fm_mine = 1;
	n->fm_started = started;
	p->fm_total = p->fm_total - n->charged + held;
	n->charged = held;
	/*
	 * Oldest partial frame first, n included: each turn takes one connection
	 * off the ledger, and n (within the budget alone) fits once the others
	 * ahead of it are gone.
	 */
	while (p->fm_total > budget && p->fm_head != NULL) {
		struct lurkd_pnode *v = p->fm_head;
		if (v == n) {
			note_inlock(ev, n, n->charged);
			drop_inlock(p, n);
			r = LURK_ERR_BUSY;
			break;
		}
		evict_inlock(p, v, ev);
	}
out:
	pthread_mutex_unlock(&p->lock);
	return r;
}

void
lurkd_pressure_release(struct lurkd_pressure *p, struct lurkd_pnode *n)
{
	if (!n->hs_mine && !n->fm_mine)
		return;
	pthread_mutex_lock(&p->lock);
	hs_unlink_inlock(p, n);
	fm_unlink_inlock(p, n);
	pthread_mutex_unlock(&p->lock);
	n->hs_mine = n->fm_mine = 0;
}

size_t
lurkd_pressure_frame_bytes(struct lurkd_pressure *p)
{
	size_t n;

	pthread_mutex_lock(&p->lock);
	n = p->fm_total;
	pthread_mutex_unlock(&p->lock);
	return n;
}

void
lurkd_pressure_note_freed(struct lurkd_pressure *p, size_t n)
{
	atomic_fetch_add(&p->freed, n);
}

size_t
lurkd_pressure_take_freed(struct lurkd_pressure *p)
{
	return atomic_exchange(&p->freed, 0);
}
