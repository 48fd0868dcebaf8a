// SPDX-License-Identifier: MIT
/*
 * The kernel-compat layer: printk into the machine's log, WARN reports with
 * the model call stack, fault injection, task identity, small containers.
 */
#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <linux/futex.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "compat/kernel.h"
#include "machine/machine-priv.h"

_Thread_local struct kstack kcompat_stack;

_Thread_local uintptr_t kcompat_current_token;
_Thread_local char kcompat_current_slot;

void kcompat_set_current(uintptr_t token)
{
	kcompat_current_token = token;
}

void kcompat_set_comm(const char *comm)
{
	snprintf(kcompat_stack.comm, sizeof(kcompat_stack.comm), "%s",
		 comm ? comm : "");
}

void kcompat_set_pid(int pid)
{
	kcompat_stack.pid = pid;
}

/* Below a sysfs store, outermost first; NULL ends each. */
static const char *const sysfs_write_x86_64[] = {
	"entry_SYSCALL_64_after_hwframe", "do_syscall_64", "__x64_sys_write",
	"ksys_write", "vfs_write", "kernfs_fop_write_iter", "sysfs_kf_write",
	NULL,
};

static const char *const sysfs_write_arm64[] = {
	"el0t_64_sync", "el0t_64_sync_handler", "el0_svc", "do_el0_svc",
	"el0_svc_common.constprop.0", "invoke_syscall", "__arm64_sys_write",
	"ksys_write", "vfs_write", "kernfs_fop_write_iter", "sysfs_kf_write",
	NULL,
};

/* x86 firmware (DMAR, IVRS) is an x86_64 machine; IORT and DT arm64. */
static bool machine_is_arm64(const struct machine *m)
{
	return m->cfg.firmware != FW_X86;
}

unsigned int kstack_push_sysfs_write_(struct machine *m,
				      const char *kobj_store)
{
	const char *const *fn = machine_is_arm64(m) ? sysfs_write_arm64 :
						      sysfs_write_x86_64;
	unsigned int n = 0;

	for (; *fn; fn++, n++)
		kstack_push_(*fn);
	kstack_push_(kobj_store);
	return n + 1;
}

/* ---- taint and modules ---- */

void add_taint(struct machine *m, unsigned int flag)
{
	pthread_mutex_lock(&m->log_lock);
	m->tainted |= 1UL << flag;
	pthread_mutex_unlock(&m->log_lock);
}

/* taint_flags[] of kernel/panic.c (v6.6): the letter set, the one clear */
static const char taint_letters[][2] = {
	{ 'P', 'G' }, { 'F', ' ' }, { 'S', ' ' }, { 'R', ' ' }, { 'M', ' ' },
	{ 'B', ' ' }, { 'U', ' ' }, { 'D', ' ' }, { 'A', ' ' }, { 'W', ' ' },
	{ 'C', ' ' }, { 'I', ' ' }, { 'O', ' ' }, { 'E', ' ' }, { 'L', ' ' },
	{ 'K', ' ' }, { 'X', ' ' }, { 'T', ' ' }, { 'N', ' ' },
};

#define NR_TAINT_FLAGS (sizeof(taint_letters) / sizeof(taint_letters[0]))

/* print_tainted(); caller holds log_lock */
static char *print_tainted(const struct machine *m)
{
	char buf[NR_TAINT_FLAGS + sizeof("Tainted: ")];
	size_t n;

	if (!m->tainted)
		return strdup("Not tainted");
	n = (size_t)snprintf(buf, sizeof(buf), "Tainted: ");
	for (size_t i = 0; i < NR_TAINT_FLAGS; i++)
		buf[n++] = taint_letters[i][!(m->tainted & (1UL << i))];
	buf[n] = '\0';
	return strdup(buf);
}

void kcompat_module_loaded(struct machine *m, const char *name)
{
	pthread_mutex_lock(&m->log_lock);
	if (m->nmodules == m->modules_cap) {
		size_t ncap = m->modules_cap ? m->modules_cap * 2 : 16;
		char(*nm)[MODULE_NAME_LEN] =
			realloc(m->modules, ncap * sizeof(*nm));

		if (!nm) {
			pthread_mutex_unlock(&m->log_lock);
			return;	/* a report lists one module fewer */
		}
		m->modules = nm;
		m->modules_cap = ncap;
	}
	strncpy(m->modules[m->nmodules], name, MODULE_NAME_LEN - 1);
	m->modules[m->nmodules++][MODULE_NAME_LEN - 1] = '\0';
	pthread_mutex_unlock(&m->log_lock);
}

void kcompat_module_unloaded(struct machine *m, const char *name)
{
	pthread_mutex_lock(&m->log_lock);
	for (size_t i = 0; i < m->nmodules; i++) {
		if (strcmp(m->modules[i], name))
			continue;
		memmove(&m->modules[i], &m->modules[i + 1],
			(m->nmodules - i - 1) * sizeof(*m->modules));
		m->nmodules--;
		break;
	}
	strncpy(m->last_unloaded, name, sizeof(m->last_unloaded) - 1);
	m->last_unloaded[sizeof(m->last_unloaded) - 1] = '\0';
	pthread_mutex_unlock(&m->log_lock);
}

/* print_modules(): newest first; caller holds log_lock */
static char *print_modules(const struct machine *m)
{
	struct sbuf sb = { 0 };

	for (size_t i = m->nmodules; i-- > 0;)
		sbuf_printf(&sb, "%s%s", sb.len ? " " : "", m->modules[i]);
	if (m->last_unloaded[0])
		sbuf_printf(&sb, "%s[last unloaded: %s]", sb.len ? " " : "",
			    m->last_unloaded);
	sbuf_printf(&sb, "%s", "");
	if (sb.oom) {
		free(sb.buf);
		return NULL;
	}
	return sb.buf;
}

void mutex_init(struct mutex *lock, struct lockdomain *ld, const char *name)
{
#ifdef DMAOWN_PTHREAD_MUTEX
	pthread_mutex_init(&lock->pm, NULL);
#endif
	atomic_init(&lock->state, 0);
	atomic_init(&lock->holder, 0);
	lock->name = name;
	lock->ld = ld;
}

void mutex_destroy(struct mutex *lock)
{
#ifdef DMAOWN_PTHREAD_MUTEX
	pthread_mutex_destroy(&lock->pm);
#else
	(void)lock;
#endif
}

void mutex_lock_slowpath(struct mutex *lock)
{
	while (atomic_exchange_explicit(&lock->state, 2, memory_order_acquire))
		syscall(SYS_futex, &lock->state, FUTEX_WAIT_PRIVATE, 2, NULL,
			NULL, 0);
}

void mutex_unlock_wake(struct mutex *lock)
{
	syscall(SYS_futex, &lock->state, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0);
}

/* Caller holds log_lock. */
static void log_append_locked(struct machine *m, int level, char *text)
{
	struct klog_entry *e;

	m->clock_ns += 1000;
	if (m->log_count == m->log_cap && m->log_cap < MACHINE_LOG_MAX) {
		/* not wrapped yet while growing: head is 0 */
		size_t ncap = m->log_cap ? m->log_cap * 2 : 64;
		struct klog_entry *nl;

		if (ncap > MACHINE_LOG_MAX)
			ncap = MACHINE_LOG_MAX;
		nl = realloc(m->log, ncap * sizeof(*nl));
		if (!nl) {
			free(text); /* a line lost to memory pressure */
			return;
		}
		m->log = nl;
		m->log_cap = ncap;
	}
	if (m->log_count == m->log_cap) {
		e = &m->log[m->log_head];
		free(e->text);
		m->log_head = (m->log_head + 1) % m->log_cap;
		m->log_count--;
	}
	e = &m->log[(m->log_head + m->log_count) % m->log_cap];
	e->ts_ns = m->clock_ns;
	e->level = level;
	e->text = text;
	m->log_count++;
}

void vprintk(struct machine *m, const char *fmt, va_list ap)
{
	int level = 4;
	char *text, *body;
	size_t n;

	if (vasprintf(&text, fmt, ap) < 0)
		return; /* a log line lost to memory pressure, as printk may */
	body = text;
	/* The level may come from the format or from a formatted prefix. */
	if (body[0] == KERN_SOH[0] && body[1] >= '0' && body[1] <= '7') {
		level = body[1] - '0';
		body += 2;
	}
	if (body != text)
		memmove(text, body, strlen(body) + 1);
	n = strlen(text);
	while (n && text[n - 1] == '\n')
		text[--n] = '\0';
	pthread_mutex_lock(&m->log_lock);
	log_append_locked(m, level, text);
	pthread_mutex_unlock(&m->log_lock);
}

void printk(struct machine *m, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vprintk(m, fmt, ap);
	va_end(ap);
}

/* "../src/drivers/iommu/iommu.c" -> "drivers/iommu/iommu.c" */
static const char *kernel_relative(const char *file)
{
	const char *p = strstr(file, "src/");

	while (p) {
		const char *next = strstr(p + 4, "src/");
		if (!next)
			return p + 4;
		p = next;
	}
	return file;
}

void kcompat_warn(struct machine *m, const char *file, int line,
		  const char *func, const char *fmt, ...)
{
	struct kstack *s = &kcompat_stack;
	struct warn_report *w;
	unsigned int depth = s->depth < KSTACK_MAX ? s->depth : KSTACK_MAX;
	va_list ap;
	char *cond;

	va_start(ap, fmt);
	if (vasprintf(&cond, fmt, ap) < 0)
		cond = NULL;
	va_end(ap);

	pthread_mutex_lock(&m->log_lock);
	if (m->nwarns == m->warns_cap && m->warns_cap < MACHINE_WARN_MAX) {
		size_t ncap = m->warns_cap ? m->warns_cap * 2 : 8;
		struct warn_report *nw = realloc(m->warns, ncap * sizeof(*nw));

		if (nw) {
			m->warns = nw;
			m->warns_cap = ncap;
		}
	}
	if (m->nwarns == m->warns_cap) {
		m->warns_dropped++;
		m->tainted |= 1UL << TAINT_WARN;
		pthread_mutex_unlock(&m->log_lock);
		free(cond);
		return;
	}
	w = &m->warns[m->nwarns];
	memset(w, 0, sizeof(*w));
	w->trace = zalloc(depth ? depth : 1, sizeof(*w->trace));
	w->comm = strdup(s->comm);
	w->modules = print_modules(m);
	w->tainted = print_tainted(m);
	if (!w->trace || !w->comm || !w->modules || !w->tainted) {
		free(w->trace);
		free(w->comm);
		free(w->modules);
		free(w->tainted);
		free(cond);
		m->warns_dropped++;
		m->tainted |= 1UL << TAINT_WARN;
		pthread_mutex_unlock(&m->log_lock);
		return;
	}
	/* innermost first, as a kernel call trace reads */
	for (unsigned int i = 0; i < depth; i++)
		w->trace[i] = s->fn[depth - 1 - i];
	w->ntrace = depth;
	w->file = kernel_relative(file);
	w->line = line;
	w->func = func;
	w->cond = cond;
	w->upstream_line = warn_site_upstream_line(w->file, func, cond);
	w->pid = s->pid ? s->pid : 1;
	w->arch = machine_is_arm64(m) ? "arm64" : "x86_64";
	m->clock_ns += 1000;
	w->ts_ns = m->clock_ns;
	m->nwarns++;
	/* __warn() taints the kernel after its report */
	m->tainted |= 1UL << TAINT_WARN;
	pthread_mutex_unlock(&m->log_lock);
}

bool should_fail(struct machine *m, const char *site)
{
	unsigned int n;

	(void)site;
	atomic_fetch_add_explicit(&m->fault_sites, 1, memory_order_relaxed);
	n = atomic_load_explicit(&m->fail_nth, memory_order_relaxed);
	while (n) {
		if (atomic_compare_exchange_weak(&m->fail_nth, &n, n - 1)) {
			if (n == 1) {
				atomic_store(&m->fault_fired, true);
				return true;
			}
			return false;
		}
	}
	return false;
}

void *kzalloc(struct machine *m, size_t size)
{
	if (should_fail(m, "kzalloc"))
		return NULL;
	return zalloc(1, size);
}

char *kstrndup(struct machine *m, const char *s, size_t max)
{
	size_t n = strnlen(s, max ? max - 1 : 0);
	char *d = kzalloc(m, n + 1);

	if (d)
		memcpy(d, s, n);
	return d;
}

int kstrtobool(const char *s, bool *res)
{
	if (!s)
		return -EINVAL;
	switch (s[0]) {
	case 'y': case 'Y': case 't': case 'T': case '1':
		*res = true;
		return 0;
	case 'n': case 'N': case 'f': case 'F': case '0':
		*res = false;
		return 0;
	case 'o': case 'O':
		if (s[1] == 'n' || s[1] == 'N') {
			*res = true;
			return 0;
		}
		if (s[1] == 'f' || s[1] == 'F') {
			*res = false;
			return 0;
		}
		return -EINVAL;
	default:
		return -EINVAL;
	}
}

/* _kstrtoull(): digits of @base (0: by prefix), then at most a newline. */
static int kstrtoull_(const char *s, unsigned int base,
		      unsigned long long *res)
{
	unsigned long long v = 0;
	const char *p;

	if (base == 0) {
		if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X') &&
		    isxdigit((unsigned char)s[2])) {
			base = 16;
			s += 2;
		} else {
			base = s[0] == '0' ? 8 : 10;
		}
	} else if (base == 16 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
		s += 2;
	}
	for (p = s; *p; p++) {
		unsigned int d;

		if (*p >= '0' && *p <= '9')
			d = (unsigned int)(*p - '0');
		else if (*p >= 'a' && *p <= 'f')
			d = (unsigned int)(*p - 'a' + 10);
		else if (*p >= 'A' && *p <= 'F')
			d = (unsigned int)(*p - 'A' + 10);
		else
			break;
		if (d >= base)
			break;
		if (v > (~0ull - d) / base)
			return -ERANGE;
		v = v * base + d;
	}
	if (p == s)
		return -EINVAL;
	if (*p == '\n')
		p++;
	if (*p)
		return -EINVAL;
	*res = v;
	return 0;
}

int kstrtou16(const char *s, unsigned int base, unsigned short *res)
{
	unsigned long long v;
	int ret;

	if (s[0] == '+')
		s++;
	ret = kstrtoull_(s, base, &v);
	if (ret)
		return ret;
	if (v > 0xffff)
		return -ERANGE;
	*res = (unsigned short)v;
	return 0;
}

int kstrtoint(const char *s, unsigned int base, int *res)
{
	unsigned long long v;
	bool neg = s[0] == '-';
	int ret;

	if (s[0] == '+' || neg)
		s++;
	ret = kstrtoull_(s, base, &v);
	if (ret)
		return ret;
	if (v > (neg ? 0x80000000ull : 0x7fffffffull))
		return -ERANGE;
	*res = neg ? (int)(-(long long)v) : (int)v;
	return 0;
}

/* ---- sbuf ---- */

/* @v in base 10 or 16 at @end, backwards; returns the first digit. */
static char *fmt_digits(char *end, unsigned long long v, bool hex)
{
	static const char digits[] = "0123456789abcdef";

	do {
		*--end = digits[hex ? (v & 15) : v % 10];
		v = hex ? v >> 4 : v / 10;
	} while (v);
	return end;
}

/*
 * The conversions canonical serialization uses, formatted without
 * vfprintf (half the checker's time went to it): literal text, %%, %c,
 * %s, %d %i %u %x with the l, ll, z length modifiers, %#x and a zero-padded
 * width on unsigned numbers (%04x). Anything else, or a NULL string,
 * returns false having appended nothing; the caller then asks vsnprintf,
 * so the text is always the one printf gives.
 */
/* Room for @n more bytes and the NUL; false (and oom) when there is none. */
bool sbuf_reserve(struct sbuf *sb, size_t n)
{
	size_t ncap;
	char *nb;

	if (sb->cap - sb->len > n)
		return true;
	ncap = sb->cap ? sb->cap * 2 : 1024;
	while (ncap - sb->len <= n)
		ncap *= 2;
	nb = realloc(sb->buf, ncap);
	if (!nb) {
		sb->oom = true;
		return false;
	}
	sb->buf = nb;
	sb->cap = ncap;
	return true;
}

static bool sbuf_fast_printf(struct sbuf *sb, const char *fmt, va_list ap)
{
	size_t start = sb->len;

	for (const char *p = fmt; *p;) {
		char num[32], *d = num + sizeof(num);
		unsigned long long u;
		long long v;
		bool alt = false, neg = false, hex;
		int width = 0, len = 0;
		const char *lit = p;
		char conv;

		/* literal text straight in, without a second pass */
		while (*lit && *lit != '%')
			lit++;
		if (lit > p) {
			if (!sbuf_reserve(sb, (size_t)(lit - p)))
				return true;
			memcpy(sb->buf + sb->len, p, (size_t)(lit - p));
			sb->len += (size_t)(lit - p);
			sb->buf[sb->len] = '\0';
		}
		if (!*lit)
			break;
		p = lit + 1;
		if (*p == '%') {
			sbuf_putc(sb, '%');
			p++;
			continue;
		}
		if (*p == '#') {
			alt = true;
			p++;
		}
		if (*p == '0')
			while (*p >= '0' && *p <= '9')
				width = width * 10 + (*p++ - '0');
		while (*p == 'l' || *p == 'z') {
			len = *p == 'z' ? 1 : len + 1;
			p++;
		}
		conv = *p++;
		if (conv == 's' && !alt && !width && !len) {
			const char *str = va_arg(ap, const char *);

			if (!str)
				goto slow;
			sbuf_putn(sb, str, strlen(str));
			continue;
		}
		if (conv == 'c' && !alt && !width && !len) {
			sbuf_putc(sb, (char)va_arg(ap, int));
			continue;
		}
		if (conv != 'd' && conv != 'i' && conv != 'u' && conv != 'x')
			goto slow;
		hex = conv == 'x';
		if (conv == 'd' || conv == 'i') {
			if (alt || width)
				goto slow;
			v = len == 0 ? va_arg(ap, int) :
			    len == 1 ? va_arg(ap, long) : va_arg(ap, long long);
			neg = v < 0;
			u = neg ? 0ULL - (unsigned long long)v :
				  (unsigned long long)v;
		} else {
			u = len == 0 ? va_arg(ap, unsigned int) :
			    len == 1 ? va_arg(ap, unsigned long) :
				       va_arg(ap, unsigned long long);
		}
		if (alt && (!hex || width))
			goto slow;
		d = fmt_digits(d, u, hex);
		while (num + sizeof(num) - d < width && d > num)
			*--d = '0';
		if (alt && u) {
			*--d = 'x';
			*--d = '0';
		}
		if (neg)
			*--d = '-';
		sbuf_putn(sb, d, (size_t)(num + sizeof(num) - d));
	}
	return true;
slow:
	sb->len = start;
	if (sb->buf)
		sb->buf[start] = '\0';
	return false;
}

void sbuf_printf(struct sbuf *sb, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (sb->oom)
		return;
	va_start(ap, fmt);
	if (sbuf_fast_printf(sb, fmt, ap)) {
		va_end(ap);
		if (!sb->buf && !sb->oom)
			sbuf_putn(sb, "", 0); /* "" still makes the buffer */
		return;
	}
	va_end(ap);
	for (;;) {
		size_t room = sb->cap - sb->len;

		va_start(ap, fmt);
		n = vsnprintf(sb->buf ? sb->buf + sb->len : NULL, room, fmt, ap);
		va_end(ap);
		if (n < 0) {
			sb->oom = true;
			return;
		}
		if ((size_t)n < room) {
			sb->len += (size_t)n;
			return;
		}
		size_t ncap = sb->cap ? sb->cap * 2 : 1024;
		while (ncap - sb->len <= (size_t)n)
			ncap *= 2;
		char *nb = realloc(sb->buf, ncap);
		if (!nb) {
			sb->oom = true;
			return;
		}
		sb->buf = nb;
		sb->cap = ncap;
	}
}

void sort_unless_sorted(void *base, size_t n, size_t size,
			int (*cmp)(const void *, const void *))
{
	const char *p = base;

	for (size_t i = 1; i < n; i++) {
		if (cmp(p + (i - 1) * size, p + i * size) > 0) {
			qsort(base, n, size, cmp);
			return;
		}
	}
}

void sbuf_putu_slow(struct sbuf *sb, unsigned long long v)
{
	char num[24], *d = num + sizeof(num);

	do {
		*--d = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	sbuf_putn(sb, d, (size_t)(num + sizeof(num) - d));
}

char *cur_putu_slow(char *p, unsigned long long v)
{
	char num[24], *d = fmt_digits(num + sizeof(num), v, false);

	return cur_putn(p, d, (size_t)(num + sizeof(num) - d));
}

void sbuf_putx_alt(struct sbuf *sb, unsigned long long v)
{
	char num[24], *d = fmt_digits(num + sizeof(num), v, true);

	if (v) {
		*--d = 'x';
		*--d = '0';
	}
	sbuf_putn(sb, d, (size_t)(num + sizeof(num) - d));
}

void sbuf_putn_slow(struct sbuf *sb, const char *s, size_t n)
{
	if (sb->oom)
		return;
	if (sb->cap - sb->len <= n) {
		size_t ncap = sb->cap ? sb->cap * 2 : 1024;
		char *nb;

		while (ncap - sb->len <= n)
			ncap *= 2;
		nb = realloc(sb->buf, ncap);
		if (!nb) {
			sb->oom = true;
			return;
		}
		sb->buf = nb;
		sb->cap = ncap;
	}
	memcpy(sb->buf + sb->len, s, n);
	sb->len += n;
	sb->buf[sb->len] = '\0';
}

/* ---- strmap: names to objects, open addressing, linear probing ---- */

/*
 * Backward-shift deletion (strmap_del(), u64map_del()): the entry at slot
 * @j of a probe run, whose home slot is @home, may fill the hole at @i
 * unless its home lies in (i, j], cyclically.
 */
static bool probe_run_may_fill(size_t home, size_t i, size_t j)
{
	return (j > i && (home <= i || home > j)) ||
	       (j < i && home <= i && home > j);
}

/*
 * Eight bytes at a time: the checker looks every action line of every
 * state up by name (a walker's line numbers), where a byte at a time cost
 * a few percent of a state.
 */
static size_t str_hash(const char *s, size_t len, size_t cap)
{
	uint64_t h = 0xcbf29ce484222325ULL ^ len, w;
	size_t i = 0;

	for (; i + 8 <= len; i += 8) {
		memcpy(&w, s + i, 8);
		h = (h ^ w) * 0x9e3779b97f4a7c15ULL;
		h ^= h >> 29;
	}
	w = 0;
	memcpy(&w, s + i, len - i);
	h = (h ^ w) * 0x9e3779b97f4a7c15ULL;
	h ^= h >> 32;
	return (size_t)h & (cap - 1);
}

void strmap_init(struct strmap *sm)
{
	memset(sm, 0, sizeof(*sm));
}

void strmap_free(struct strmap *sm)
{
	if (!sm->borrowed)
		free(sm->keys);
	memset(sm, 0, sizeof(*sm));
}

/* Keys and values in one allocation: a clone copies a table per index. */
static const char **strmap_table(size_t cap)
{
	return zalloc(cap, sizeof(const char *) + sizeof(void *));
}

static int strmap_grow(struct strmap *sm)
{
	/* small first: a clone copies every table of a machine's indexes */
	size_t ncap = sm->cap ? sm->cap * 2 : 8;
	const char **nk = strmap_table(ncap);
	void **nv = (void **)(nk + ncap);

	if (!nk)
		return -ENOMEM;
	for (size_t i = 0; i < sm->cap; i++) {
		size_t j;

		if (!sm->keys[i])
			continue;
		j = str_hash(sm->keys[i], strlen(sm->keys[i]), ncap);
		while (nk[j])
			j = (j + 1) & (ncap - 1);
		nk[j] = sm->keys[i];
		nv[j] = sm->vals[i];
	}
	if (!sm->borrowed)
		free(sm->keys);
	sm->borrowed = false;
	sm->keys = nk;
	sm->vals = nv;
	sm->cap = ncap;
	return 0;
}

int strmap_put(struct strmap *sm, const char *key, void *val)
{
	size_t i;

	if ((sm->count + 1) * 2 > sm->cap && strmap_grow(sm))
		return -ENOMEM;
	i = str_hash(key, strlen(key), sm->cap);
	for (; sm->keys[i]; i = (i + 1) & (sm->cap - 1))
		if (!strcmp(sm->keys[i], key))
			return -EEXIST;
	sm->keys[i] = key;
	sm->vals[i] = val;
	sm->count++;
	return 0;
}

static bool key_eq(const char *k, const char *s, size_t len)
{
	return !strncmp(k, s, len) && !k[len];
}

void *strmap_get_len(const struct strmap *sm, const char *key, size_t len)
{
	size_t i;

	if (!sm->cap)
		return NULL;
	for (i = str_hash(key, len, sm->cap); sm->keys[i];
	     i = (i + 1) & (sm->cap - 1))
		if (key_eq(sm->keys[i], key, len))
			return sm->vals[i];
	return NULL;
}

void strmap_del(struct strmap *sm, const char *key, const void *val)
{
	size_t i, j, mask = sm->cap - 1;

	if (!sm->cap)
		return;
	for (i = str_hash(key, strlen(key), sm->cap); sm->keys[i];
	     i = (i + 1) & mask)
		if (!strcmp(sm->keys[i], key))
			break;
	if (!sm->keys[i] || sm->vals[i] != val)
		return;
	/* backward shift: pull later entries of the run into the hole */
	for (j = (i + 1) & mask; sm->keys[j]; j = (j + 1) & mask) {
		size_t home = str_hash(sm->keys[j], strlen(sm->keys[j]),
				       sm->cap);

		if (probe_run_may_fill(home, i, j)) {
			sm->keys[i] = sm->keys[j];
			sm->vals[i] = sm->vals[j];
			i = j;
		}
	}
	sm->keys[i] = NULL;
	sm->vals[i] = NULL;
	sm->count--;
}

void self_check_failed(const char *file, int line, const char *what)
{
	fprintf(stderr, "dmaown: %s:%d: self-check failed: %s\n", file, line,
		what);
	abort();
}

int strmap_clone(struct strmap *dst, const struct strmap *src,
		 const struct ptrmap *map, const char *(*key_of)(const void *),
		 void *room)
{
	memset(dst, 0, sizeof(*dst));
	if (!src->cap)
		return 0;
	dst->keys = room ? room : malloc(strmap_room(src));
	if (!dst->keys)
		return -ENOMEM;
	memset(dst->keys, 0, strmap_room(src));
	dst->borrowed = room != NULL;
	dst->vals = (void **)(dst->keys + src->cap);
	dst->cap = src->cap;
	for (size_t i = 0; i < src->cap; i++) {
		void *v;

		if (!src->keys[i])
			continue;
		v = ptrmap_get(map, src->vals[i]);
		if (!v) {
			strmap_free(dst);
			return -EINVAL;
		}
		dst->keys[i] = key_of(v);
		dst->vals[i] = v;
		/* the same string, so the same slot */
		self_check(!strcmp(dst->keys[i], src->keys[i]));
	}
	dst->count = src->count;
	return 0;
}

/* ---- u64map: integers to objects, open addressing, linear probing ---- */

static size_t u64_hash(uint64_t x, size_t cap)
{
	/* murmur3's finaliser: consecutive stream IDs spread over the table */
	x ^= x >> 33;
	x *= 0xff51afd7ed558ccdULL;
	x ^= x >> 33;
	x *= 0xc4ceb9fe1a85ec53ULL;
	x ^= x >> 33;
	return (size_t)x & (cap - 1);
}

void u64map_init(struct u64map *um)
{
	memset(um, 0, sizeof(*um));
}

void u64map_free(struct u64map *um)
{
	free(um->keys); /* the values' slots too: one block */
	memset(um, 0, sizeof(*um));
}

/* One block of @cap keys then @cap values: a clone copies it at once. */
#define U64MAP_SLOT (sizeof(uint64_t) + sizeof(void *))

static int u64map_grow(struct u64map *um)
{
	/* small first: a machine's clone copies every SMMU's map */
	size_t ncap = um->cap ? um->cap * 2 : 16;
	uint64_t *nk = zalloc(ncap, U64MAP_SLOT);
	void **nv = (void **)(nk + ncap);

	if (!nk)
		return -ENOMEM;
	for (size_t i = 0; i < um->cap; i++) {
		size_t j;

		if (!um->vals[i])
			continue;
		j = u64_hash(um->keys[i], ncap);
		while (nv[j])
			j = (j + 1) & (ncap - 1);
		nk[j] = um->keys[i];
		nv[j] = um->vals[i];
	}
	free(um->keys);
	um->keys = nk;
	um->vals = nv;
	um->cap = ncap;
	return 0;
}

int u64map_put(struct u64map *um, uint64_t key, void *val)
{
	size_t i;

	if (!val)
		return -EINVAL;
	if ((um->count + 1) * 2 > um->cap && u64map_grow(um))
		return -ENOMEM;
	for (i = u64_hash(key, um->cap); um->vals[i];
	     i = (i + 1) & (um->cap - 1))
		if (um->keys[i] == key)
			return -EEXIST;
	um->keys[i] = key;
	um->vals[i] = val;
	um->count++;
	return 0;
}

void *u64map_get(const struct u64map *um, uint64_t key)
{
	if (!um->cap)
		return NULL;
	for (size_t i = u64_hash(key, um->cap); um->vals[i];
	     i = (i + 1) & (um->cap - 1))
		if (um->keys[i] == key)
			return um->vals[i];
	return NULL;
}

bool u64map_del(struct u64map *um, uint64_t key, const void *val)
{
	size_t i, j, mask = um->cap - 1;

	if (!um->cap)
		return false;
	for (i = u64_hash(key, um->cap); um->vals[i]; i = (i + 1) & mask)
		if (um->keys[i] == key)
			break;
	if (!um->vals[i] || um->vals[i] != val)
		return false;
	/* backward shift, as strmap_del() */
	for (j = (i + 1) & mask; um->vals[j]; j = (j + 1) & mask) {
		size_t home = u64_hash(um->keys[j], um->cap);

		if (probe_run_may_fill(home, i, j)) {
			um->keys[i] = um->keys[j];
			um->vals[i] = um->vals[j];
			i = j;
		}
	}
	um->vals[i] = NULL;
	um->count--;
	return true;
}

int u64map_copy(struct u64map *dst, const struct u64map *src)
{
	memset(dst, 0, sizeof(*dst));
	if (!src->count)
		return 0; /* an empty table need not be copied */
	dst->keys = malloc(src->cap * U64MAP_SLOT);
	if (!dst->keys)
		return -ENOMEM;
	memcpy(dst->keys, src->keys, src->cap * U64MAP_SLOT);
	dst->vals = (void **)(dst->keys + src->cap);
	dst->cap = src->cap;
	dst->count = src->count;
	return 0;
}

void u64map_remap(struct u64map *um, const struct ptrmap *map)
{
	for (size_t i = 0; i < um->cap; i++)
		if (um->vals[i])
			um->vals[i] = clone_remap(map, um->vals[i]);
}

/* ---- ptrmap: open addressing, linear probing ---- */

void ptrmap_init(struct ptrmap *pm)
{
	memset(pm, 0, sizeof(*pm));
}

void ptrmap_init_size(struct ptrmap *pm, size_t n)
{
	size_t cap = 64;

	memset(pm, 0, sizeof(*pm));
	while (cap < 2 * n + 2)
		cap *= 2;
	pm->keys = zalloc(cap, sizeof(*pm->keys));
	pm->vals = malloc(cap * sizeof(*pm->vals));
	if (!pm->keys || !pm->vals) {
		free(pm->keys);
		free(pm->vals);
		pm->keys = NULL;
		pm->vals = NULL;
		return; /* an empty map grows on its first put */
	}
	pm->cap = cap;
}

void ptrmap_free(struct ptrmap *pm)
{
	free(pm->keys);
	free(pm->vals);
	memset(pm, 0, sizeof(*pm));
}

static bool ptrmap_grow(struct ptrmap *pm)
{
	size_t ncap = pm->cap ? pm->cap * 2 : 64;
	const void **nk = zalloc(ncap, sizeof(*nk));
	void **nv = zalloc(ncap, sizeof(*nv));

	if (!nk || !nv) {
		free(nk);
		free(nv);
		pm->oom = true;
		return false;
	}
	for (size_t i = 0; i < pm->cap; i++) {
		if (!pm->keys[i])
			continue;
		size_t j = ptrmap_slot(pm->keys[i], ncap);
		while (nk[j])
			j = (j + 1) & (ncap - 1);
		nk[j] = pm->keys[i];
		nv[j] = pm->vals[i];
	}
	free(pm->keys);
	free(pm->vals);
	pm->keys = nk;
	pm->vals = nv;
	pm->cap = ncap;
	return true;
}

bool ptrmap_put_slow(struct ptrmap *pm, const void *key, void *val)
{
	if (!key)
		return false; /* NULL marks an empty slot */
	if ((pm->count + 1) * 2 > pm->cap && !ptrmap_grow(pm))
		return false;
	/* grown, the inline path has room */
	return ptrmap_put(pm, key, val);
}

int canon_id_slow(struct ptrmap *pm, const void *p)
{
	void *v = ptrmap_get(pm, p);

	if (v)
		return (int)(intptr_t)v - 1;
	ptrmap_put_slow(pm, p, (void *)(intptr_t)(pm->count + 1));
	return (int)pm->count - 1;
}

/* ---- idr ---- */

void idr_init(struct idr *idr)
{
	memset(idr, 0, sizeof(*idr));
}

void idr_destroy(struct idr *idr)
{
	free(idr->ptr);
	free(idr->used);
	idr_init(idr);
}

static int idr_grow(struct idr *idr, unsigned int need)
{
	unsigned int ncap = idr->cap ? idr->cap : 64;
	void **np;
	uint64_t *nu;

	while (ncap < need)
		ncap *= 2;
	np = realloc(idr->ptr, ncap * sizeof(*np));
	if (!np)
		return -ENOMEM;
	idr->ptr = np;
	nu = realloc(idr->used, ncap / 64 * sizeof(*nu));
	if (!nu)
		return -ENOMEM;
	idr->used = nu;
	memset(np + idr->cap, 0, (ncap - idr->cap) * sizeof(*np));
	memset(nu + idr->cap / 64, 0, (ncap - idr->cap) / 64 * sizeof(*nu));
	idr->cap = ncap;
	return 0;
}

/* The lowest clear bit at or above @from, or @idr->cap if none. */
static unsigned int idr_find_free(const struct idr *idr, unsigned int from)
{
	unsigned int w = from / 64;
	uint64_t bits;

	if (from >= idr->cap)
		return from;
	bits = ~idr->used[w] & (~0ULL << (from % 64));
	while (!bits) {
		if (++w == idr->cap / 64)
			return idr->cap;
		bits = ~idr->used[w];
	}
	return w * 64 + (unsigned int)__builtin_ctzll(bits);
}

int idr_alloc_lowest(struct idr *idr, void *ptr, unsigned int start,
		     unsigned int end)
{
	unsigned int id = idr_find_free(idr, start > idr->hint ? start : idr->hint);

	if (id >= end)
		return -ENOSPC;
	if (id >= idr->cap && idr_grow(idr, id + 1))
		return -ENOMEM;
	idr->ptr[id] = ptr;
	idr->used[id / 64] |= 1ULL << (id % 64);
	idr->count++;
	if (start <= idr->hint && id == idr->hint)
		idr->hint = idr_find_free(idr, id + 1);
	return (int)id;
}

void *idr_find(const struct idr *idr, int id)
{
	if (id < 0 || (unsigned int)id >= idr->cap)
		return NULL;
	return idr->ptr[id];
}

void *idr_remove(struct idr *idr, int id)
{
	void *p = idr_find(idr, id);

	if (!p)
		return NULL;
	idr->ptr[id] = NULL;
	idr->used[id / 64] &= ~(1ULL << (id % 64));
	idr->count--;
	if ((unsigned int)id < idr->hint)
		idr->hint = (unsigned int)id;
	return p;
}

int idr_next(const struct idr *idr, int id)
{
	unsigned int w;
	uint64_t bits;

	if (id < 0)
		id = 0;
	if ((unsigned int)id >= idr->cap)
		return -1;
	w = (unsigned int)id / 64;
	bits = idr->used[w] & (~0ULL << (id % 64));
	while (!bits) {
		if (++w == idr->cap / 64)
			return -1;
		bits = idr->used[w];
	}
	return (int)(w * 64 + (unsigned int)__builtin_ctzll(bits));
}

int idr_copy(struct idr *dst, const struct idr *src)
{
	idr_init(dst);
	if (!src->cap)
		return 0;
	if (idr_grow(dst, src->cap))
		return -ENOMEM;
	memcpy(dst->ptr, src->ptr, src->cap * sizeof(*dst->ptr));
	memcpy(dst->used, src->used, src->cap / 64 * sizeof(*dst->used));
	dst->hint = src->hint;
	dst->count = src->count;
	return 0;
}
