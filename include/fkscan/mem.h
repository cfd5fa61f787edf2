/*
 * mem.h
 *	  Allocation wrappers: out of memory is reported once and ends the
 *	  program, so callers never test for NULL.  These are the only functions
 *	  allowed to exit outside main().
 */
#ifndef FKSCAN_MEM_H
#define FKSCAN_MEM_H

#include <stddef.h>

void *fk_malloc(size_t size);
void *fk_calloc(size_t n, size_t size);
void *fk_realloc(void *ptr, size_t size);
char *fk_strdup(const char *s); /* fk_strdup(NULL) returns NULL */

/*
 * Anonymous pages of their own, zeroed, for big blocks written whole and
 * freed one by one: fk_unmap gives them back to the system at once (free()
 * may keep them).
 */
void *fk_map(size_t size);
void  fk_unmap(void *p, size_t size);

/* Report that size bytes could not be had, and end the program. */
_Noreturn void fk_out_of_memory(size_t size);

/* Grow *items (element size elsize) so that index need-1 fits; doubles. */
void fk_array_grow(void **items, int *cap, int need, size_t elsize);

#endif /* FKSCAN_MEM_H */
