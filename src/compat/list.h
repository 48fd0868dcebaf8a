/* SPDX-License-Identifier: MIT */
/*
 * Intrusive doubly linked lists with the kernel's names, so model code reads
 * like the code it mirrors. Written from the list semantics, not copied.
 */
#ifndef DMAOWN_COMPAT_LIST_H
#define DMAOWN_COMPAT_LIST_H

#include <stddef.h>
#include <stdbool.h>

struct list_head {
	struct list_head *next, *prev;
};

#define LIST_HEAD_INIT(name) { &(name), &(name) }
#define LIST_HEAD(name) struct list_head name = LIST_HEAD_INIT(name)

#define container_of(ptr, type, member) \
	((type *)(void *)((char *)(ptr) - offsetof(type, member)))

static inline void INIT_LIST_HEAD(struct list_head *h)
{
	h->next = h;
	h->prev = h;
}

static inline void list_insert_between_(struct list_head *n,
					struct list_head *prev,
					struct list_head *next)
{
	next->prev = n;
	n->next = next;
	n->prev = prev;
	prev->next = n;
}

static inline void list_add(struct list_head *n, struct list_head *head)
{
	list_insert_between_(n, head, head->next);
}

static inline void list_add_tail(struct list_head *n, struct list_head *head)
{
	list_insert_between_(n, head->prev, head);
}

/* Leaves the entry self-linked so a second list_del() is harmless. */
static inline void list_del(struct list_head *e)
{
	e->prev->next = e->next;
	e->next->prev = e->prev;
	INIT_LIST_HEAD(e);
}

/* Move every entry of @list to the front of @head; @list ends empty. */
static inline void list_splice_init(struct list_head *list,
				    struct list_head *head)
{
	if (list->next == list)
		return;
	list->next->prev = head;
	list->prev->next = head->next;
	head->next->prev = list->prev;
	head->next = list->next;
	INIT_LIST_HEAD(list);
}

static inline bool list_empty(const struct list_head *h)
{
	return h->next == h;
}

static inline bool list_is_singular(const struct list_head *h)
{
	return !list_empty(h) && h->next == h->prev;
}

static inline size_t list_count_nodes(const struct list_head *h)
{
	size_t n = 0;
	for (const struct list_head *p = h->next; p != h; p = p->next)
		n++;
	return n;
}

#define list_entry(ptr, type, member) container_of(ptr, type, member)
#define list_first_entry(head, type, member) \
	list_entry((head)->next, type, member)
#define list_last_entry(head, type, member) \
	list_entry((head)->prev, type, member)

#define list_for_each_entry(pos, head, member)                              \
	for (pos = list_entry((head)->next, __typeof__(*pos), member);      \
	     &pos->member != (head);                                        \
	     pos = list_entry(pos->member.next, __typeof__(*pos), member))

#define list_for_each_entry_safe(pos, n, head, member)                      \
	for (pos = list_entry((head)->next, __typeof__(*pos), member),      \
	     n = list_entry(pos->member.next, __typeof__(*pos), member);    \
	     &pos->member != (head);                                        \
	     pos = n, n = list_entry(n->member.next, __typeof__(*n), member))

#define list_for_each_entry_reverse(pos, head, member)                      \
	for (pos = list_entry((head)->prev, __typeof__(*pos), member);      \
	     &pos->member != (head);                                        \
	     pos = list_entry(pos->member.prev, __typeof__(*pos), member))

/* Continue backwards from (not including) pos: used to roll back a loop. */
#define list_for_each_entry_continue_reverse(pos, head, member)             \
	for (pos = list_entry(pos->member.prev, __typeof__(*pos), member);  \
	     &pos->member != (head);                                        \
	     pos = list_entry(pos->member.prev, __typeof__(*pos), member))

/*
 * The lowest id not used in a list kept sorted by an int field @idf (the
 * way ida_alloc() and file descriptors hand out numbers). Sets *@before to
 * the node a new entry with that id must be inserted before.
 */
#define list_lowest_free_id(head, type, member, idf, before)             \
	({                                                                 \
		type *lfi_pos_;                                            \
		int lfi_id_ = 0;                                           \
		*(before) = (head);                                        \
		list_for_each_entry(lfi_pos_, head, member) {              \
			if (lfi_pos_->idf != lfi_id_) {                    \
				*(before) = &lfi_pos_->member;             \
				break;                                     \
			}                                                  \
			lfi_id_++;                                         \
		}                                                          \
		lfi_id_;                                                   \
	})

#endif
