/*
 * mugai/base/bigmem.h - scratch buffers of a megabyte and more (a
 * rendered page's pixels, its ink and mask, a picture's cairo image) in
 * transparent huge pages where the kernel gives them.
 *
 * Every fresh 4 KB page costs a page fault on its first touch, and
 * buffers this large are fresh each time: glibc maps them on their own
 * and unmaps them when freed.  On a virtual machine a fault is dear: on
 * this project's 2-core VM, touching 64 MB took 12.7 us a 4 KB page,
 * and 0.24 us with huge pages; a ten-page PDF copy touched some 30,000
 * pages.  So a buffer from mugai_big_alloc is mapped on its own,
 * aligned to and sized in 2 MB, and advised MADV_HUGEPAGE: a fault then
 * brings in 2 MB.  Where the kernel has no transparent huge pages, or
 * they are off, it is an ordinary mapping, faulted a page at a time as
 * before.  Smaller requests, and builds under AddressSanitizer (which
 * watches malloc'd blocks only), come from malloc.
 *
 * The cost: up to 2 MB more resident a buffer than asked for.  Meant
 * for a few buffers at a time, not for many small ones.
 */
#ifndef MUGAI_BIGMEM_H
#define MUGAI_BIGMEM_H

#include <stddef.h>

/* From this size a buffer has a mapping of its own. */
#define MUGAI_BIG_MIN	(1024 * 1024)

/*
 * mugai_big_alloc - n bytes (n > 0), contents undefined, aligned for any
 * type; NULL when out of memory.  Free with mugai_big_free only.
 */
void *mugai_big_alloc(size_t n);

/* mugai_big_free - a buffer from mugai_big_alloc; NULL safe. */
void mugai_big_free(void *p);

#endif
