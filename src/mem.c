/*
 * mem.c
 *	  Allocation wrappers that never return NULL.
 */
#include "fkscan/mem.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

/* Mappings from this size on are worth huge pages (x86-64: 2 MB). */
#define HUGE_MAP_BYTES ((size_t) 2 * 1024 * 1024)

_Noreturn void
fk_out_of_memory(size_t size)
{
	fprintf(stderr, "fkscan: error: out of memory (requested %zu bytes)\n", size);
	exit(2);
}

void *
fk_malloc(size_t size)
{
	void *p = malloc(size ? size : 1);

	if (p == NULL)
		fk_out_of_memory(size);
	return p;
}

void *
fk_calloc(size_t n, size_t size)
{
	void *p = calloc(n ? n : 1, size ? size : 1);

	if (p == NULL)
		fk_out_of_memory(n * size);
	return p;
}

void *
fk_realloc(void *ptr, size_t size)
{
	void *p = realloc(ptr, size ? size : 1);

	if (p == NULL)
		fk_out_of_memory(size);
	return p;
}

char *
fk_strdup(const char *s)
{
	size_t len;
	char  *p;

	if (s == NULL)
		return NULL;
	len = strlen(s) + 1;
	p = fk_malloc(len);
	memcpy(p, s, len);
	return p;
}

void
fk_array_grow(void **items, int *cap, int need, size_t elsize)
{
	int newcap;

	if (need <= *cap)
		return;
	newcap = *cap > 0 ? *cap : 8;
	while (newcap < need)
		newcap *= 2;
	*items = fk_realloc(*items, (size_t) newcap * elsize);
	*cap = newcap;
}

/*
 * Filling a big set on 4 kB pages faults once a page, and a fault is dear
 * under a hypervisor: 5M fingerprints were built in 110 ns a key, 66 with
 * huge pages, 47 with the smaller maps (the blocks filling) populated in
 * one call.  Huge maps are not populated: so made, the probe of the frozen
 * set took 36 ns, not 24.  Both are advice only.
 */
void *
fk_map(size_t size)
{
	void *p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED)
		fk_out_of_memory(size);
#ifdef MADV_HUGEPAGE
	if (size >= HUGE_MAP_BYTES)
		(void) madvise(p, size, MADV_HUGEPAGE);
#endif
#ifdef MADV_POPULATE_WRITE
	if (size < HUGE_MAP_BYTES)
		(void) madvise(p, size, MADV_POPULATE_WRITE);
#endif
	return p;
}

void
fk_unmap(void *p, size_t size)
{
	if (p)
		munmap(p, size);
}
