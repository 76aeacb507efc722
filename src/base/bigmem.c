/*
 * bigmem.c - large scratch buffers in transparent huge pages (see
 * mugai/base/bigmem.h for why).
 *
 * Each buffer has a header of BIG_HDR bytes in front of it that says
 * how it was had: the length of its own mapping, or 0 for malloc.  A
 * mapping starts on a 2 MB boundary and is a whole number of 2 MB, so
 * that every 2 MB of it can be one huge page.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#if defined(__has_include)
#if __has_include(<valgrind/memcheck.h>)
#include <valgrind/memcheck.h>
#endif
#endif
#ifndef VALGRIND_MAKE_MEM_NOACCESS
#define VALGRIND_MAKE_MEM_NOACCESS(p, n)	((void)(p), (void)(n))
#define VALGRIND_MAKE_MEM_UNDEFINED(p, n)	((void)(p), (void)(n))
#endif

#include "mugai/base/bigmem.h"

#if defined(__SANITIZE_ADDRESS__)
#define BIG_MALLOC_ONLY	1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define BIG_MALLOC_ONLY	1
#endif
#endif
#ifndef BIG_MALLOC_ONLY
#define BIG_MALLOC_ONLY	0
#endif

/* A transparent huge page on x86-64 and arm64 with 4 KB pages. */
#define BIG_PAGE	((size_t)2 * 1024 * 1024)
/* The header: a cache line, which keeps the data aligned for anything. */
#define BIG_HDR		((size_t)64)

struct big_hdr {
	size_t	maplen;			/* 0: from malloc */
};

/* big_map - an aligned mapping of len (a multiple of BIG_PAGE) bytes. */
static void *
big_map(size_t len)
{
	uint8_t *p, *a;
	size_t head;

	/* One huge page more, to cut an aligned start out of. */
	p = mmap(NULL, len + BIG_PAGE, PROT_READ | PROT_WRITE,
	    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		return NULL;
	a = (uint8_t *)(((uintptr_t)p + BIG_PAGE - 1) & ~(BIG_PAGE - 1));
	head = (size_t)(a - p);
	if (head > 0)
		(void)munmap(p, head);
	(void)munmap(a + len, BIG_PAGE - head);
#ifdef MADV_HUGEPAGE
	/* A kernel without them says EINVAL: small pages, as before. */
	(void)madvise(a, len, MADV_HUGEPAGE);
#endif
	return a;
}

void *
mugai_big_alloc(size_t n)
{
	struct big_hdr *h;
	size_t len;

	if (n == 0 || n > SIZE_MAX - BIG_HDR - 2 * BIG_PAGE)
		return NULL;
	if (BIG_MALLOC_ONLY || n < MUGAI_BIG_MIN) {
		if ((h = malloc(BIG_HDR + n)) == NULL)
			return NULL;
		h->maplen = 0;
		return (uint8_t *)h + BIG_HDR;
	}
	len = (BIG_HDR + n + BIG_PAGE - 1) & ~(BIG_PAGE - 1);
	if ((h = big_map(len)) == NULL)
		return NULL;
	h->maplen = len;
	/* Under valgrind, what lies past n is not the caller's. */
	VALGRIND_MAKE_MEM_NOACCESS((uint8_t *)h + BIG_HDR + n,
	    len - BIG_HDR - n);
	VALGRIND_MAKE_MEM_UNDEFINED((uint8_t *)h + BIG_HDR, n);
	return (uint8_t *)h + BIG_HDR;
}

void
mugai_big_free(void *p)
{
	struct big_hdr *h;

	if (p == NULL)
		return;
	h = (struct big_hdr *)(void *)((uint8_t *)p - BIG_HDR);
	if (h->maplen == 0)
		free(h);
	else
		(void)munmap(h, h->maplen);
}
