/* tsan_mem: in the ThreadSanitizer build only (make VARIANT=tsan), shows TSan libre's
 * reference counts. libre 1.1.0 counts references with plain arithmetic inside the
 * library, which TSan does not instrument, so two threads changing one object's count —
 * the bug class cccd must never have: a libre object changes owner between threads, it is
 * never shared — would go unseen. That build links libre statically with ld's --wrap for
 * mem_ref and mem_deref, so every call (ours and libre's own) comes here first: the
 * wrapper reports a write to the object's header, where its count lives, then calls
 * libre. Two threads touching one object's count with nothing ordering them (a lock, a
 * queue, an eventfd) are then reported with both stacks; a hand-over through any of those
 * orders them and is quiet. */
#ifdef CCCD_TSAN
#include <stddef.h>

void __tsan_write1(void *addr);
void *__real_mem_ref(void *data);
void *__real_mem_deref(void *data);
void *__wrap_mem_ref(void *data);
void *__wrap_mem_deref(void *data);

/* A byte of libre's header just before the data (struct mem, where nrefs is). */
static void count_touched(void *data)
{
	if (data)
		__tsan_write1((char *)data - 1);
}

void *__wrap_mem_ref(void *data)
{
	count_touched(data);
	return __real_mem_ref(data);
}

void *__wrap_mem_deref(void *data)
{
	count_touched(data);
	return __real_mem_deref(data);
}
#endif
