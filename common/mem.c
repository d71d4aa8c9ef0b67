#include "config.h"

#include <stdlib.h>

#include <sodium.h>

#include "err.h"
#include "mem.h"

int
lurk_mem_init(void)
{
	return sodium_init() < 0 ? LURK_ERR_INTERNAL : 0;
}

void
lurk_wipe(void *p, size_t n)
{
	if (p != NULL && n != 0)
		sodium_memzero(p, n);
}

void
lurk_freezero(void *p, size_t n)
{
	if (p == NULL)
		return;
	sodium_memzero(p, n);
	free(p);
}

void *
lurk_secret_alloc(size_t n)
{
	return sodium_malloc(n);
}

void
lurk_secret_free(void *p)
{
	if (p != NULL)
		sodium_free(p);
}

int
lurk_secret_readonly(void *p)
{
	return sodium_mprotect_readonly(p) == 0 ? 0 : LURK_ERR_SYSTEM;
}

int
lurk_secret_noaccess(void *p)
{
	return sodium_mprotect_noaccess(p) == 0 ? 0 : LURK_ERR_SYSTEM;
}

int
lurk_secret_readwrite(void *p)
{
	return sodium_mprotect_readwrite(p) == 0 ? 0 : LURK_ERR_SYSTEM;
}

void *
lurk_calloc_array(size_t n, size_t size)
{
	if (size != 0 && n > SIZE_MAX / size)
		return NULL;
	return calloc(n == 0 ? 1 : n, size == 0 ? 1 : size);
}
