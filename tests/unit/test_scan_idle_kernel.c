/* SPDX-License-Identifier: MulanPSL-2.0 */
/*
 * The idle_pages parser against streams read from a real kernel: the rig
 * kernel with the openEuler interface (tests/vm/kernel/), captured by
 * tests/vm/idle_capture.c into tests/unit/data/idle_pages_streams.txt
 * together with what each layout is. Every read must parse whole and give
 * back the layout; the kernel's streams must also keep the conventions the
 * hand-written fixtures of test_scan_idle.c assume (see test_conventions).
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "scan/idle_stream.h"
#include "scan/pagestate.h"

#define DATA ETMEM_SOURCE_DIR "/tests/unit/data/idle_pages_streams.txt"
#define MAX_READ 65536

/* One scenario: pages of [start, end), -1 = not reported, else the weight. */
struct scen {
	char name[64];
	unsigned flags;
	uint64_t start, end;
	int *w;
	unsigned reads;
	uint16_t types_seen; /* bit per stream type: which the kernel emitted */
};

struct totals {
	unsigned scenarios, reads, expects;
	uint16_t types;
	char names[512];
};

static int mark(void *arg, uint64_t addr, uint64_t nr, enum page_type type, unsigned weight)
{
	struct scen *s = arg;
	uint64_t per = type == PUD_TYPE	  ? ETM_PUD_SIZE / ETM_PTE_SIZE
		       : type == PMD_TYPE ? ETM_PMD_SIZE / ETM_PTE_SIZE
					  : 1;

	for (uint64_t a = addr; a < addr + nr * per * ETM_PTE_SIZE; a += ETM_PTE_SIZE) {
		/* a read may report past its range (a whole THP), not before it */
		if (a >= s->start && a < s->end) {
			int *w = &s->w[(a - s->start) / ETM_PTE_SIZE];

			/* each page is reported once per scenario */
			assert_int_equal(*w, -1);
			*w = (int)weight;
		}
	}
	return 0;
}

static size_t unhex(const char *h, uint8_t *out, size_t max)
{
	size_t n = 0;

	while (h[0] && h[0] != '\n' && h[1]) {
		unsigned v;

		assert_true(n < max);
		assert_int_equal(sscanf(h, "%2x", &v), 1);
		out[n++] = (uint8_t)v;
		h += 2;
	}
	return n;
}

/* The stream conventions of the kernel, byte by byte (see test_conventions). */
static void check_conventions(const uint8_t *b, size_t n, struct scen *s)
{
	int prev = -1;

	for (size_t i = 0; i < n;) {
		unsigned t = b[i] >> 4;

		if (b[i] == ETM_PIP_CMD_SET_HVA) {
			/* never two SET_HVA in a row, never one after a hole */
			assert_true(prev != ETM_PIP_CMD && prev != ETM_PIP_PTE_HOLE && prev != ETM_PIP_PMD_HOLE);
			prev = ETM_PIP_CMD;
			i += ETM_PIP_SET_HVA_LEN;
			continue;
		}
		/* no dirty types: they come only from openEuler's scan of a VM's EPT */
		assert_int_not_equal(t, ETM_PIP_PTE_DIRTY);
		assert_int_not_equal(t, ETM_PIP_PMD_DIRTY);
		s->types_seen |= (uint16_t)(1u << t);
		prev = (int)t;
		i++;
	}
	/* a read never ends with a hole or a bare SET_HVA */
	assert_true(prev != ETM_PIP_CMD && prev != ETM_PIP_PTE_HOLE && prev != ETM_PIP_PMD_HOLE);
}

static void do_read(struct scen *s, const char *line, uint8_t *buf)
{
	unsigned long long pos, next;
	size_t count, n;
	const char *data = strstr(line, "data=");
	struct etm_pip_result r;
	int err;

	assert_int_equal(sscanf(line, "read pos=%llx count=%zu next=%llx", &pos, &count, &next), 3);
	assert_non_null(data);
	n = unhex(data + 5, buf, MAX_READ);
	assert_true(n <= count);
	/* the position always moves on, to a page boundary */
	assert_true(next > pos);
	assert_int_equal(next % ETM_PTE_SIZE, 0);
	s->reads++;
	if (!n)
		return;
	assert_int_equal(buf[0], ETM_PIP_CMD_SET_HVA);
	check_conventions(buf, n, s);
	err = etm_pip_parse(buf, n, mark, s, &r);
	assert_int_equal(err, 0);
	assert_int_equal(r.used, n);
	/* the parser's cursor ends where the kernel will resume, or before */
	assert_true(r.next <= next);
	assert_true(r.next > pos);
}

/* "expect ADDR N STATE": accessed = weight 1, idle = 0, absent = not reported, present = reported. */
static void do_expect(struct scen *s, const char *line)
{
	unsigned long long addr, pages;
	char state[16];
	int want;

	assert_int_equal(sscanf(line, "expect %llx %llu %15s", &addr, &pages, state), 3);
	want = !strcmp(state, "accessed") ? 1 : !strcmp(state, "idle") ? 0 : !strcmp(state, "absent") ? -1 : -2;
	assert_true(want != -2 || !strcmp(state, "present"));
	for (uint64_t i = 0; i < pages; i++) {
		uint64_t a = addr + i * ETM_PTE_SIZE;
		int w;

		assert_true(a >= s->start && a < s->end);
		w = s->w[(a - s->start) / ETM_PTE_SIZE];
		if (want == -2 ? w < 0 : w != want)
			fail_msg("%s: page 0x%llx is %s, the parser made it %d (-1 = not reported)", s->name,
				 (unsigned long long)a, state, w);
	}
}

static void end_scenario(struct scen *s, char **exp, size_t nexp, struct totals *t)
{
	for (size_t i = 0; i < nexp; i++) {
		do_expect(s, exp[i]);
		free(exp[i]);
	}
	t->scenarios++;
	t->expects += (unsigned)nexp;
	t->types |= s->types_seen;
	snprintf(t->names + strlen(t->names), sizeof(t->names) - strlen(t->names), " %s", s->name);
	free(s->w);
	s->w = NULL;
}

static void begin_scenario(struct scen *s, const char *line)
{
	unsigned long long a, b;

	memset(s, 0, sizeof(*s));
	assert_int_equal(sscanf(line, "scenario %63s flags=%x start=%llx end=%llx", s->name, &s->flags, &a, &b), 4);
	assert_true(a < b);
	s->start = a;
	s->end = b;
	s->w = malloc((b - a) / ETM_PTE_SIZE * sizeof(int));
	assert_non_null(s->w);
	for (uint64_t i = 0; i < (b - a) / ETM_PTE_SIZE; i++)
		s->w[i] = -1;
}

/* Every scenario of the capture: reads parsed, then the layout checked. */
static void run_file(struct totals *t)
{
	FILE *f = fopen(DATA, "r");
	uint8_t *buf = malloc(MAX_READ);
	struct scen s = { 0 };
	char *line = NULL, *exp[1024];
	size_t cap = 0, nexp = 0;

	assert_non_null(f);
	assert_non_null(buf);
	while (getline(&line, &cap, f) > 0) {
		if (line[0] == '#' || line[0] == '\n')
			continue;
		if (!strncmp(line, "scenario ", 9)) {
			assert_null(s.w);
			begin_scenario(&s, line);
		} else if (!strncmp(line, "read ", 5)) {
			assert_non_null(s.w);
			do_read(&s, line, buf);
			t->reads++;
		} else if (!strncmp(line, "expect ", 7)) {
			assert_non_null(s.w);
			assert_true(nexp < 1024);
			exp[nexp++] = strdup(line);
		} else if (!strncmp(line, "end", 3)) {
			assert_non_null(s.w);
			assert_true(s.reads > 0);
			end_scenario(&s, exp, nexp, t);
			nexp = 0;
		} else if (!strncmp(line, "skip ", 5)) {
			fail_msg("the capture skipped a scenario (%s): regenerate it on the full rig guest", line);
		} else {
			fail_msg("unknown line in %s: %s", DATA, line);
		}
	}
	assert_null(s.w);
	free(line);
	free(buf);
	fclose(f);
}

/* Every read of every scenario parses whole and gives back the layout. */
static void test_kernel_streams(void **state)
{
	struct totals t = { 0 };

	(void)state;
	run_file(&t);
	print_message("%u scenarios (%s), %u reads, %u expectations\n", t.scenarios, t.names, t.reads, t.expects);
	/* the capture covers every layout it knows of; a shorter file is stale */
	assert_int_equal(t.scenarios, 10);
	assert_true(t.reads > t.scenarios); /* one scenario reads in many small pieces */
}

/*
 * The types the kernel emits for process memory, which the fixtures of
 * test_scan_idle.c must parse the same way: all but the dirty ones.
 */
static void test_kernel_types(void **state)
{
	struct totals t = { 0 };
	unsigned want = 1u << ETM_PIP_PTE_ACCESSED | 1u << ETM_PIP_PMD_ACCESSED | 1u << ETM_PIP_PUD_PRESENT |
			1u << ETM_PIP_PTE_IDLE | 1u << ETM_PIP_PMD_IDLE | 1u << ETM_PIP_PMD_IDLE_PTES |
			1u << ETM_PIP_PTE_HOLE | 1u << ETM_PIP_PMD_HOLE;

	(void)state;
	run_file(&t);
	assert_int_equal(t.types & want, want);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_kernel_streams),
		cmocka_unit_test(test_kernel_types),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
