/* fifomem.c - first-in first-out record memory (see fifomem.h). */
#include "common/fifomem.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

/* Large enough that mapping is rare (a block holds some eighty 496
 * challenges), small enough that one live record pins little. */
#define BLOCK_SIZE ((size_t)256 * 1024)
#define ALIGN ((size_t)16)
#define ROUND(n, a) (((n) + (a) - 1) / (a) * (a))

struct block {
	struct block *next;
	size_t size; /* mapped, this header included */
	size_t head; /* offset of the oldest record */
	size_t tail; /* offset of the next record */
};

/* Each record: its payload length, padded to ALIGN, then the payload. */
#define HDR ROUND(sizeof(struct block), ALIGN)
#define REC_HDR ROUND(sizeof(size_t), ALIGN)


struct fifomem {
	struct block *first, *last; /* every listed block holds a record */
	struct block *spare;        /* empty standard blocks, a stack */
	size_t nspare, nused;       /* standard blocks: spare, listed */
	size_t records, mapped;
};

struct fifomem *
fifomem_new(void)
{
	return calloc(1, sizeof(struct fifomem));
}

static void
unmap(struct fifomem *f, struct block *b)
{
	f->mapped -= b->size;
	munmap(b, b->size);
}

void
fifomem_free(struct fifomem *f)
{
	struct block *b, *next;

	if (f == NULL)
		return;
	for (b = f->first; b != NULL; b = next) {
		next = b->next;
		unmap(f, b);
	}
	for (b = f->spare; b != NULL; b = next) {
		next = b->next;
		unmap(f, b);
	}
	free(f);
}

static struct block *
block_get(struct fifomem *f, size_t need)
{
	size_t page = (size_t)sysconf(_SC_PAGESIZE);
	size_t size = HDR + need <= BLOCK_SIZE ? BLOCK_SIZE :
	    ROUND(HDR + need, page);
	struct block *b;

	if (size == BLOCK_SIZE && f->spare != NULL) {
		b = f->spare;
		f->spare = b->next;
		f->nspare--;
	} else {
		/* Populated: one system call instead of a fault per page. */
		b = mmap(NULL, size, PROT_READ | PROT_WRITE,
		    MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
		if (b == MAP_FAILED)
			return NULL;
		f->mapped += size;
		b->size = size;
	}
	b->next = NULL;
	b->head = b->tail = HDR;
	if (size == BLOCK_SIZE)
		f->nused++;
	return b;
}

void *
fifomem_push(struct fifomem *f, const void *data, size_t len)
{
	size_t need = REC_HDR + ROUND(len, ALIGN);
	struct block *b = f->last;
	char *rec;

	if (len > SIZE_MAX / 2)
		return NULL;
	if (b == NULL || b->size - b->tail < need) {
		if ((b = block_get(f, need)) == NULL)
			return NULL;
		if (f->last != NULL)
			f->last->next = b;
		else
			f->first = b;
		f->last = b;
	}
	rec = (char *)b + b->tail;
	memcpy(rec, &len, sizeof(len));
	if (len > 0)
		memcpy(rec + REC_HDR, data, len);
	b->tail += need;
	f->records++;
	return rec + REC_HDR;
}

void *
fifomem_oldest(const struct fifomem *f)
{
	if (f->first == NULL)
		return NULL;
	return (char *)f->first + f->first->head + REC_HDR;
}

int
fifomem_pop(struct fifomem *f, const void *rec)
{
	struct block *b = f->first;
	size_t len;

	if (b == NULL || rec != fifomem_oldest(f))
		return -1;
	memcpy(&len, (char *)b + b->head, sizeof(len));
	b->head += REC_HDR + ROUND(len, ALIGN);
	f->records--;
	if (b->head < b->tail)
		return 0;
	if ((f->first = b->next) == NULL)
		f->last = NULL;
	if (b->size != BLOCK_SIZE) {
		unmap(f, b);
		return 0;
	}
	f->nused--;
	/* Kept until the owner trims: a fresh block costs the kernel a page
	 * fault (or, populated, the same work without the trap) per 4 KB,
	 * more than the copies on a paravirtualised guest. */
	b->next = f->spare;
	f->spare = b;
	f->nspare++;
	return 0;
}

void
fifomem_trim(struct fifomem *f, size_t spare)
{
	struct block *b;

	while (f->nspare > spare) {
		b = f->spare;
		f->spare = b->next;
		f->nspare--;
		unmap(f, b);
	}
}

size_t
fifomem_blocks(const struct fifomem *f)
{
	return f->nused;
}

size_t
fifomem_records(const struct fifomem *f)
{
	return f->records;
}

size_t
fifomem_mapped(const struct fifomem *f)
{
	return f->mapped;
}
