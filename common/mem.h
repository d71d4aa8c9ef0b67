/*
 * Secret memory helpers on libsodium.
 *
 * lurk_wipe() is the only way to clear memory that held a secret (plain memset
 * before free can be removed by the compiler). Long-lived keys go in
 * lurk_secret_alloc() memory: guard pages, a canary and mlock, and
 * lurk_secret_free() wipes it.
 */
#ifndef LURK_MEM_H
#define LURK_MEM_H

#include <stddef.h>
#include <stdint.h>

#include "compiler.h"

/* Calls sodium_init() (idempotent); 0 or LURK_ERR_INTERNAL. */
int lurk_mem_init(void) LURK_MUST_CHECK;

void lurk_wipe(void *p, size_t n);
/* Wipes n bytes at p, then free()s it. NULL is fine. */
void lurk_freezero(void *p, size_t n);

void *lurk_secret_alloc(size_t n);
void lurk_secret_free(void *p);
int lurk_secret_readonly(void *p);
int lurk_secret_noaccess(void *p);
int lurk_secret_readwrite(void *p);

/* calloc(n, size) with the multiplication checked. */
void *lurk_calloc_array(size_t n, size_t size);

#endif
