/*
 * etmem-idle-capture: builds memory layouts whose page states it knows, at
 * fixed addresses, reads them back through /proc/self/idle_pages and prints
 * each read's stream together with what the layout is (the ground truth).
 * Run in the rig guest on the kernel with the openEuler interface
 * (capture-streams.sh); its output is tests/unit/data/idle_pages_streams.txt,
 * which the unit test test_scan_idle_kernel parses.
 *
 * Output, one record per line:
 *   scenario NAME flags=0xF start=0xA end=0xA   what follows is one layout
 *   expect 0xA N STATE       N pages from A: accessed | idle | absent
 *   read pos=0xA count=N next=0xA data=HEX    one read() and the position after it
 *   end
 * A scenario without a needed facility (hugetlb pages) prints
 * "skip NAME REASON" instead.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#define PG 4096UL
#define PMD (2UL << 20)
#define PUD (1UL << 30)
#define BASE 0x7e0000000000UL /* scenario k at BASE + k GiB */

#define IDLE_SCAN_ADD_FLAGS _IOW(0x66, 0x0, unsigned int)
#define SCAN_HUGE_PAGE 0x800
#define SCAN_AS_HUGE 0x1000000
#define VMA_SCAN_FLAG 0x1000
#ifndef MADV_SWAPFLAG
#define MADV_SWAPFLAG 26
#endif
#ifndef MAP_FIXED_NOREPLACE
#define MAP_FIXED_NOREPLACE 0x100000
#endif
#ifndef MAP_HUGE_1GB
#define MAP_HUGE_1GB (30 << 26)
#endif

static void die(const char *what)
{
	fprintf(stderr, "etmem-idle-capture: %s: %s\n", what, strerror(errno));
	exit(1);
}

static char *map_at(unsigned long addr, size_t len, int extra, int advice)
{
	char *p = mmap((void *)addr, len, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE | extra, -1, 0);

	if (p == MAP_FAILED)
		return NULL;
	if (advice >= 0 && madvise(p, len, advice))
		die("madvise");
	return p;
}

static void touch(char *p, size_t len)
{
	for (size_t i = 0; i < len; i += PG)
		p[i] = 1;
}

static void touch_read(char *p, size_t len)
{
	volatile char sink;

	for (size_t i = 0; i < len; i += PG)
		sink = p[i];
	(void)sink;
}

static int open_idle(unsigned flags)
{
	int fd = open("/proc/self/idle_pages", O_RDONLY);

	if (fd < 0)
		die("open /proc/self/idle_pages");
	if (flags && ioctl(fd, IDLE_SCAN_ADD_FLAGS, &flags))
		die("ioctl IDLE_SCAN_ADD_FLAGS");
	return fd;
}

/* Reads of @count bytes (0: one that covers the range) over [start, end), printed. */
static void capture(int fd, unsigned long start, unsigned long end, size_t count, int print)
{
	size_t size = count ? count : (end - start) / PG / 8 + 19;
	unsigned char *buf = malloc(size);
	unsigned long pos = start;

	if (!buf)
		die("malloc");
	while (pos < end) {
		ssize_t n;
		off_t np;

		if (lseek(fd, (off_t)pos, SEEK_SET) < 0)
			die("lseek");
		n = read(fd, buf, size);
		if (n < 0)
			die("read idle_pages");
		np = lseek(fd, 0, SEEK_CUR);
		if (print) {
			printf("read pos=0x%lx count=%zu next=0x%lx data=", pos, size, (unsigned long)np);
			for (ssize_t i = 0; i < n; i++)
				printf("%02x", buf[i]);
			printf("\n");
		}
		if ((unsigned long)np <= pos)
			break;
		pos = (unsigned long)np;
	}
	free(buf);
}

/* Clear the accessed bits of [p, p + len) and flush the TLB (close). */
static void settle(char *p, size_t len, unsigned flags)
{
	int fd = open_idle(flags);

	capture(fd, (unsigned long)p, (unsigned long)p + len, 0, 0);
	close(fd);
}

static void begin(const char *name, unsigned flags, unsigned long start, unsigned long end)
{
	printf("scenario %s flags=0x%x start=0x%lx end=0x%lx\n", name, flags, start, end);
}

static void expect(void *addr, unsigned long pages, const char *state)
{
	printf("expect 0x%lx %lu %s\n", (unsigned long)addr, pages, state);
}

/* Base pages: accessed, idle, dropped and never touched ones, one read. */
static void sc_pte(void)
{
	char *p = map_at(BASE, PMD, 0, MADV_NOHUGEPAGE);
	int fd;

	if (!p)
		die("mmap pte");
	touch(p, 100 * PG);
	settle(p, PMD, 0);
	touch_read(p, 40 * PG);
	madvise(p + 50 * PG, 10 * PG, MADV_DONTNEED);
	begin("pte", 0, BASE, BASE + PMD);
	expect(p, 40, "accessed");
	expect(p + 40 * PG, 10, "idle");
	expect(p + 50 * PG, 10, "absent");
	expect(p + 60 * PG, 40, "idle");
	expect(p + 100 * PG, 412, "absent");
	fd = open_idle(0);
	capture(fd, BASE, BASE + PMD, 0, 1);
	close(fd);
	printf("end\n");
}

/* Every other page accessed, read with the smallest buffer: resumes at next. */
static void sc_resume(void)
{
	unsigned long a = BASE + PUD;
	char *p = map_at(a, 64 * PG, 0, MADV_NOHUGEPAGE);
	int fd;

	if (!p)
		die("mmap resume");
	touch(p, 64 * PG);
	settle(p, 64 * PG, 0);
	for (int i = 0; i < 64; i += 2)
		touch_read(p + i * PG, PG);
	begin("resume", 0, a, a + 64 * PG);
	for (int i = 0; i < 64; i++)
		expect(p + i * PG, 1, i % 2 ? "idle" : "accessed");
	fd = open_idle(0);
	capture(fd, a, a + 64 * PG, 19, 1);
	close(fd);
	printf("end\n");
}

/* Two areas with a gap, a PMD-sized hole inside the second one. */
static void sc_gaps(void)
{
	unsigned long a = BASE + 2 * PUD;
	char *p = map_at(a, 16 * PG, 0, MADV_NOHUGEPAGE);
	char *q = map_at(a + PMD, 3 * PMD, 0, MADV_NOHUGEPAGE);
	int fd;

	if (!p || !q)
		die("mmap gaps");
	touch(p, 16 * PG);
	touch(q + PMD - PG, PG);
	touch(q + 2 * PMD, 3 * PG);
	begin("gaps", 0, a, a + 4 * PMD);
	expect(p, 16, "accessed");
	expect(p + 16 * PG, 512 - 16, "absent");
	expect(q, 511, "absent");
	expect(q + PMD - PG, 1, "accessed");
	expect(q + PMD, 512, "absent");
	expect(q + 2 * PMD, 3, "accessed");
	expect(q + 2 * PMD + 3 * PG, 509, "absent");
	fd = open_idle(0);
	capture(fd, a, a + 4 * PMD, 0, 1);
	close(fd);
	printf("end\n");
}

/* Two THPs, one accessed; then the same as a read from inside the first. */
static void sc_thp(void)
{
	unsigned long a = BASE + 3 * PUD;
	char *p = map_at(a, 2 * PMD, 0, MADV_HUGEPAGE);
	int fd;

	if (!p)
		die("mmap thp");
	touch(p, 2 * PMD);
	settle(p, 2 * PMD, 0);
	touch_read(p + PMD, PG);
	begin("thp", 0, a, a + 2 * PMD);
	expect(p, 512, "idle");
	expect(p + PMD, 512, "accessed");
	fd = open_idle(0);
	capture(fd, a, a + 2 * PMD, 0, 1);
	close(fd);
	printf("end\n");
	begin("thp_middle", 0, a + PMD - 8 * PG, a + PMD);
	expect(p + PMD - 8 * PG, 8, "idle");
	fd = open_idle(0);
	capture(fd, a + PMD - 8 * PG, a + PMD, 0, 1);
	close(fd);
	printf("end\n");
}

/* SCAN_HUGE_PAGE (an unused page table) and SCAN_AS_HUGE (one item per table). */
static void sc_flags(void)
{
	unsigned long a = BASE + 4 * PUD;
	char *p = map_at(a, 2 * PMD, 0, MADV_NOHUGEPAGE);
	int fd;

	if (!p)
		die("mmap flags");
	touch(p, 2 * PMD);
	settle(p, 2 * PMD, SCAN_HUGE_PAGE);
	touch_read(p, 4 * PG);
	begin("scan_huge_page", SCAN_HUGE_PAGE, a, a + 2 * PMD);
	expect(p, 4, "accessed");
	expect(p + 4 * PG, 508, "idle");
	expect(p + PMD, 512, "idle");
	fd = open_idle(SCAN_HUGE_PAGE);
	capture(fd, a, a + 2 * PMD, 0, 1);
	close(fd);
	printf("end\n");

	touch_read(p + PMD + 7 * PG, PG);
	begin("scan_as_huge", SCAN_AS_HUGE, a, a + 2 * PMD);
	expect(p, 512, "idle");
	expect(p + PMD, 512, "accessed");
	fd = open_idle(SCAN_AS_HUGE);
	capture(fd, a, a + 2 * PMD, 0, 1);
	close(fd);
	printf("end\n");
}

/* Only the area marked with MADV_SWAPFLAG under VMA_SCAN_FLAG. */
static void sc_swapflag(void)
{
	unsigned long a = BASE + 5 * PUD;
	char *p = map_at(a, 32 * PG, 0, MADV_NOHUGEPAGE);
	int fd;

	if (!p)
		die("mmap swapflag");
	touch(p, 32 * PG);
	if (madvise(p + 16 * PG, 16 * PG, MADV_SWAPFLAG))
		die("madvise MADV_SWAPFLAG");
	begin("swapflag", VMA_SCAN_FLAG, a, a + 32 * PG);
	expect(p, 16, "absent");
	expect(p + 16 * PG, 16, "accessed");
	fd = open_idle(VMA_SCAN_FLAG);
	capture(fd, a, a + 32 * PG, 0, 1);
	close(fd);
	printf("end\n");
}

static int reserve(const char *dir, int n)
{
	char path[128], buf[16];
	int fd;
	ssize_t r;

	snprintf(path, sizeof(path), "/sys/kernel/mm/hugepages/%s/nr_hugepages", dir);
	fd = open(path, O_RDWR);
	if (fd < 0)
		return 0;
	snprintf(buf, sizeof(buf), "%d", n);
	r = write(fd, buf, strlen(buf));
	lseek(fd, 0, SEEK_SET);
	r = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	buf[r > 0 ? r : 0] = '\0';
	return atoi(buf);
}

/* hugetlb: 2 MiB pages as PMD items, a 1 GiB page as PUD_PRESENT. */
static void sc_hugetlb(void)
{
	unsigned long a = BASE + 6 * PUD, b = BASE + 8 * PUD;
	char *p, *q;
	int fd;

	if (reserve("hugepages-2048kB", 2) < 2) {
		printf("skip hugetlb_pmd no 2 MiB hugetlb pages\n");
	} else if (!(p = map_at(a, 2 * PMD, MAP_HUGETLB, -1))) {
		printf("skip hugetlb_pmd mmap: %s\n", strerror(errno));
	} else {
		touch(p, 2 * PMD);
		settle(p, 2 * PMD, 0);
		touch_read(p, PG);
		begin("hugetlb_pmd", 0, a, a + 2 * PMD);
		expect(p, 512, "accessed");
		expect(p + PMD, 512, "idle");
		fd = open_idle(0);
		capture(fd, a, a + 2 * PMD, 0, 1);
		close(fd);
		printf("end\n");
	}
	if (reserve("hugepages-1048576kB", 1) < 1) {
		printf("skip hugetlb_pud no 1 GiB hugetlb page\n");
	} else if (!(q = map_at(b, PUD, MAP_HUGETLB | MAP_HUGE_1GB, -1))) {
		printf("skip hugetlb_pud mmap: %s\n", strerror(errno));
	} else {
		q[0] = 1;
		begin("hugetlb_pud", 0, b, b + PUD);
		expect(q, PUD / PG, "present");
		fd = open_idle(0);
		capture(fd, b, b + PUD, 0, 1);
		close(fd);
		printf("end\n");
	}
}

int main(void)
{
	printf("# /proc/PID/idle_pages streams of the rig kernel (tests/vm/kernel/), captured by\n"
	       "# tests/vm/idle_capture.c through tests/vm/capture-streams.sh; parsed by\n"
	       "# tests/unit/test_scan_idle_kernel.c. Regenerate with\n"
	       "#   tests/vm/capture-streams.sh BUILD_DIR > tests/unit/data/idle_pages_streams.txt\n");
	sc_pte();
	sc_resume();
	sc_gaps();
	sc_thp();
	sc_flags();
	sc_swapflag();
	sc_hugetlb();
	return 0;
}
