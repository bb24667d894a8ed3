/* SPDX-License-Identifier: MulanPSL-2.0 */
/*
 * psi engine: the kernel side on stand-in trees. A temporary directory
 * plays the root of the machine: a mountinfo naming cgroup hierarchies
 * below it (psi_sys.standin: their files are opened through the memcg
 * layer's confined walk, on the stand-in's own filesystem), /proc/pressure/memory, /proc/meminfo, the command line and
 * a kernel config, and regular files that play the cgroup files. Covered: the mount table, the command line and config
 * readers, the diagnosis of a kernel without PSI, backend detection (cgroup2, openEuler v1, plain v1 with and without
 * cgroup2 beside it), readings, pressure sources (own, cpuacct, twin, the system's), and the writes each backend's
 * reclaim does.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include <glib.h>

#include "daemon/engines/psi_backend.h"
#include "test_file_util.h"

#define MiB (1ULL << 20)
#define GiB (1ULL << 30)
#define V1_UNLIMITED "9223372036854771712"

#define PRESSURE_TXT "some avg10=0.00 avg60=0.00 avg300=0.00 total=1\nfull avg10=0.00 avg60=0.00 avg300=0.00 total=0\n"

struct fx {
	char root[64];
	char path[6][160]; /* mountinfo, pressure, meminfo, cmdline, kconfig, jdir */
	struct psi_sys sys;
};

static char *at(const struct fx *f, const char *rel)
{
	return g_build_filename(f->root, rel, NULL);
}

static void mkd(const struct fx *f, const char *rel)
{
	g_autofree char *p = at(f, rel);

	assert_int_equal(g_mkdir_with_parents(p, 0700), 0);
}

/* @text into the stand-in file @rel (its directory made first). */
static void put(const struct fx *f, const char *rel, const char *text)
{
	g_autofree char *p = at(f, rel);
	g_autofree char *dir = g_path_get_dirname(p);
	g_autofree char *base = g_path_get_basename(p);

	assert_int_equal(g_mkdir_with_parents(dir, 0700), 0);
	put_file(dir, base, text);
}

static void del(const struct fx *f, const char *rel)
{
	g_autofree char *p = at(f, rel);

	assert_int_equal(unlink(p), 0);
}

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	static const char *const names[] = { "mountinfo", "proc/pressure/memory", "proc/meminfo", "proc/cmdline",
					     "boot/config" };

	snprintf(f->root, sizeof(f->root), "/tmp/etm-psi-backend-XXXXXX");
	if (!mkdtemp(f->root))
		return -1;
	for (int i = 0; i < 5; i++)
		snprintf(f->path[i], sizeof(f->path[i]), "%s/%s", f->root, names[i]);
	f->sys = (struct psi_sys){ .mountinfo = f->path[0],
				   .standin = true,
				   .proc_pressure = f->path[1],
				   .meminfo = f->path[2],
				   .cmdline = f->path[3],
				   .kconfig = f->path[4] };
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf %s", f->root);
	if (system(cmd))
		return -1;
	free(f);
	return 0;
}

/*
 * The stand-in's mountinfo: one line per "FSTYPE DIR SUPEROPTIONS" of
 * @spec (newline-separated), DIR below the stand-in root.
 */
static void mountinfo(const struct fx *f, const char *spec)
{
	g_auto(GStrv) lines = g_strsplit(spec, "\n", -1);
	g_autoptr(GString) mi = g_string_new(NULL);
	int id = 30;

	for (char **l = lines; *l && **l; l++) {
		g_auto(GStrv) w = g_strsplit(*l, " ", 3);

		assert_non_null(w[1]);
		assert_non_null(w[2]);
		g_string_append_printf(mi, "%d 1 0:%d / %s%s rw,relatime - %s %s %s\n", id, id, f->root, w[1], w[0],
				       w[0], w[2]);
		id++;
	}
	put(f, "mountinfo", mi->str);
}

/* This host's layout: v1 memory and cpuacct, cgroup2 beside them with no controller but hugetlb. */
static void host_like(const struct fx *f)
{
	mountinfo(f, "tmpfs /sys/fs/cgroup rw,mode=755\n"
		     "cgroup /sys/fs/cgroup/cpu rw,cpu\n"
		     "cgroup /sys/fs/cgroup/cpuacct rw,cpuacct\n"
		     "cgroup /sys/fs/cgroup/memory rw,memory\n"
		     "cgroup /sys/fs/cgroup/systemd rw,name=systemd\n"
		     "cgroup2 /sys/fs/cgroup/unified rw\n");
	put(f, "sys/fs/cgroup/unified/cgroup.controllers", "hugetlb\n");
	put(f, "sys/fs/cgroup/unified/memory.pressure", PRESSURE_TXT);
	mkd(f, "sys/fs/cgroup/memory");
	mkd(f, "sys/fs/cgroup/cpuacct");
	put(f, "proc/pressure/memory",
	    "some avg10=1.25 avg60=0.50 avg300=0.00 total=99\n"
	    "full avg10=0.00 avg60=0.00 avg300=0.00 total=0\n");
	put(f, "proc/meminfo",
	    "MemTotal: 24000000 kB\nMemFree: 1000 kB\nSwapTotal: 8388604 kB\n"
	    "SwapFree: 1048576 kB\n");
	put(f, "proc/cmdline", "console=ttyS0 psi=1 quiet\n");
	put(f, "boot/config", "CONFIG_PSI=y\nCONFIG_PSI_DEFAULT_DISABLED=y\nCONFIG_MEMCG_V1=y\n");
}

/* A mainline cgroup2-only machine. */
static void v2_only(const struct fx *f)
{
	mountinfo(f, "cgroup2 /sys/fs/cgroup rw,nsdelegate\n");
	put(f, "sys/fs/cgroup/cgroup.controllers", "cpuset cpu io memory hugetlb pids\n");
	put(f, "sys/fs/cgroup/memory.pressure", PRESSURE_TXT);
	put(f, "sys/fs/cgroup/memory.reclaim", "");
	put(f, "proc/pressure/memory", PRESSURE_TXT);
	put(f, "proc/meminfo", "MemTotal: 24000000 kB\nMemFree: 1000 kB\nSwapFree: 4194304 kB\n");
	put(f, "proc/cmdline", "psi=1\n");
}

/* openEuler: v1 memory with memory.reclaim, pressure in cpuacct. */
static void openeuler(const struct fx *f)
{
	mountinfo(f, "cgroup /sys/fs/cgroup/cpu,cpuacct rw,cpu,cpuacct\n"
		     "cgroup /sys/fs/cgroup/memory rw,memory\n");
	put(f, "sys/fs/cgroup/memory/memory.reclaim", "");
	put(f, "sys/fs/cgroup/cpu,cpuacct/memory.pressure", PRESSURE_TXT);
	put(f, "proc/pressure/memory", PRESSURE_TXT);
	put(f, "proc/meminfo", "MemTotal: 24000000 kB\nMemFree: 1000 kB\nSwapFree: 4194304 kB\n");
	put(f, "proc/cmdline", "psi=1 psi_v1=1\n");
	put(f, "boot/config", "CONFIG_PSI=y\nCONFIG_PSI_CGROUP_V1=y\n");
}

static struct psi_backend *detect(const struct fx *f, const char *want_name, const char *want_err)
{
	g_autoptr(GString) err = g_string_new(NULL);
	struct psi_backend *b = psi_backend_detect(&f->sys, err);

	if (want_name) {
		if (!b)
			fail_msg("no backend: %s", err->str);
		assert_string_equal(b->ops->name, want_name);
		assert_int_equal(err->len, 0);
	} else {
		assert_null(b);
		if (!strstr(err->str, want_err))
			fail_msg("error \"%s\" lacks \"%s\"", err->str, want_err);
	}
	return b;
}

static void test_mounts(void **state)
{
	static const char mi[] = "30 1 0:40 / /sys/fs/cgroup/uni\\040fied rw - cgroup2 cgroup2 rw\n"
				 "31 1 0:41 / /a rw - cgroup cgroup rw,memory_x\n"  /* not the memory controller */
				 "32 1 0:42 /sub /c rw - cgroup cgroup rw,memory\n" /* shows less of it */
				 "33 1 0:43 / /b rw - cgroup cgroup rw,cpu,cpuacct,memory\n"
				 "garbage line\n"
				 "34 1 0:44 / relative rw - cgroup cgroup rw,memory\n";
	struct psi_mounts m;

	(void)state;
	psi_mounts_parse(mi, sizeof(mi) - 1, &m);
	assert_true(m.has_unified && m.has_memory_v1 && m.has_cpuacct_v1);
	assert_string_equal(m.unified.mnt, "/sys/fs/cgroup/uni fied");
	assert_string_equal(m.memory_v1.mnt, "/b");
	assert_string_equal(m.cpuacct_v1.mnt, "/b");
	psi_mounts_parse(mi, 100, &m); /* only the first line */
	assert_true(m.has_unified);
	assert_false(m.has_memory_v1 || m.has_cpuacct_v1);
}

static void test_cmdline_kconfig(void **state)
{
	static const char cmd[] = "ro psi=1 psi_v1=0 xpsi=0 psi_v1=on quiet -- psi=0\n";
	static const char cfg[] = "#\n# CONFIG_PSI_CGROUP_V1 is not set\nCONFIG_PSI=y\nCONFIG_ZRAM=m\n"
				  "CONFIG_NAME=\"x\"\n";

	(void)state;
	/* the last occurrence before "--" wins; xpsi= is another parameter */
	assert_int_equal(psi_cmdline_bool(cmd, strlen(cmd), "psi"), 1);
	assert_int_equal(psi_cmdline_bool(cmd, strlen(cmd), "psi_v1"), 1);
	assert_int_equal(psi_cmdline_bool("psi=bogus", 9, "psi"), -1);
	assert_int_equal(psi_cmdline_bool("psi", 3, "psi"), -1);
	assert_int_equal(psi_cmdline_bool("psi=N", 5, "psi"), 0);
	assert_int_equal(psi_cmdline_bool("", 0, "psi"), -1);
	assert_int_equal(psi_kconfig_value(cfg, strlen(cfg), "PSI"), 'y');
	assert_int_equal(psi_kconfig_value(cfg, strlen(cfg), "ZRAM"), 'm');
	assert_int_equal(psi_kconfig_value(cfg, strlen(cfg), "PSI_CGROUP_V1"), 'n');
	assert_int_equal(psi_kconfig_value(cfg, strlen(cfg), "PSI_DEFAULT_DISABLED"), 0);
	assert_int_equal(psi_kconfig_value(cfg, strlen(cfg), "NAME"), 0);
	/* a prefix of another option is not it */
	assert_int_equal(psi_kconfig_value("CONFIG_PSI_X=y\n", 15, "PSI"), 0);
}

static void diag(const char *cmd, const char *cfg, bool system_psi, bool v1, const char *want)
{
	g_autoptr(GString) s = g_string_new(NULL);

	psi_diagnose(cmd, cmd ? strlen(cmd) : 0, cfg, cfg ? strlen(cfg) : 0, system_psi, v1, s);
	if (!strstr(s->str, want))
		fail_msg("diagnosis \"%s\" lacks \"%s\"", s->str, want);
}

static void test_diagnose(void **state)
{
	(void)state;
	/* built without PSI */
	diag("psi=1", "# CONFIG_PSI is not set\n", false, false, "built without CONFIG_PSI");
	/* turned off on the command line */
	diag("psi=0", "CONFIG_PSI=y\n", false, false, "psi=0 on the kernel command line turns it off: boot with psi=1");
	/* off by default, as on this host without psi=1 */
	diag("quiet", "CONFIG_PSI=y\nCONFIG_PSI_DEFAULT_DISABLED=y\n", false, false,
	     "CONFIG_PSI_DEFAULT_DISABLED=y): boot with psi=1");
	/* no config to read: both named */
	diag("quiet", NULL, false, false, "boot with psi=1, on a kernel built with CONFIG_PSI=y (no kernel config");
	/* openEuler v1: psi_v1 missing from the command line */
	diag("psi=1", "CONFIG_PSI=y\nCONFIG_PSI_CGROUP_V1=y\n", true, true, "boot with psi_v1=1");
	/* ... or the config */
	diag("psi=1 psi_v1=1", "CONFIG_PSI=y\n# CONFIG_PSI_CGROUP_V1 is not set\n", true, true,
	     "built without CONFIG_PSI_CGROUP_V1");
	/* ... and both at once */
	diag("quiet", NULL, false, true, "; and for cgroup v1, boot with psi_v1=1");
}

static void test_detect_plain_v1(void **state)
{
	struct fx *f = *state;
	g_autoptr(psi_backend) b = NULL;
	g_autofree char *d = NULL, *mem = at(f, "sys/fs/cgroup/memory"), *uni = at(f, "sys/fs/cgroup/unified");

	host_like(f);
	f->sys.jdir = "/run/etmemd-test";
	b = detect(f, "cgroup1-limit", NULL);
	assert_ptr_equal(b->ops, &psi_backend_cgroup1_limit);
	assert_string_equal(b->mem.mnt, mem);
	assert_true(b->v1);
	assert_true(b->has_psi);
	assert_string_equal(b->psi.mnt, uni);
	assert_string_equal(b->jdir, "/run/etmemd-test");
	d = psi_backend_describe(b);
	assert_non_null(strstr(d, "cgroup1-limit"));
	assert_non_null(strstr(d, "memory.limit_in_bytes cuts"));
	assert_non_null(strstr(d, "the cgroup2 twin in"));
	assert_non_null(strstr(d, f->path[1])); /* the system file as the fallback */
}

static void test_detect_v1_no_cgroup2(void **state)
{
	struct fx *f = *state;
	g_autoptr(psi_backend) b = NULL;
	g_autofree char *d = NULL;

	host_like(f);
	mountinfo(f, "cgroup /sys/fs/cgroup/memory rw,memory\n");
	b = detect(f, "cgroup1-limit", NULL);
	assert_false(b->has_psi);
	assert_null(b->jdir);
	d = psi_backend_describe(b);
	assert_null(strstr(d, "twin"));
	assert_non_null(strstr(d, "undo journal none"));
}

static void test_detect_no_psi(void **state)
{
	struct fx *f = *state;

	host_like(f);
	del(f, "proc/pressure/memory");
	/* this host's kernel without psi=1 on its command line */
	put(f, "proc/cmdline", "console=ttyS0 quiet\n");
	detect(f, NULL, "CONFIG_PSI_DEFAULT_DISABLED=y): boot with psi=1");
	put(f, "proc/cmdline", "psi=0\n");
	detect(f, NULL, "psi=0 on the kernel command line");
	put(f, "boot/config", "# CONFIG_PSI is not set\n");
	detect(f, NULL, "built without CONFIG_PSI");
	/* no config file at all */
	del(f, "boot/config");
	put(f, "proc/cmdline", "quiet\n");
	detect(f, NULL, "no kernel config found");
}

static void test_detect_v2(void **state)
{
	struct fx *f = *state;
	g_autoptr(psi_backend) b = NULL;
	g_autofree char *d = NULL;

	v2_only(f);
	f->sys.jdir = "/run/etmemd-test";
	b = detect(f, "cgroup2", NULL);
	assert_null(b->jdir); /* no limit cuts, no journal */
	assert_false(b->v1);
	assert_string_equal(b->mem.mnt, b->psi.mnt);
	d = psi_backend_describe(b);
	assert_non_null(strstr(d, "memory.pressure, memory.reclaim"));
	/* before 5.19: no memory.reclaim */
	del(f, "sys/fs/cgroup/memory.reclaim");
	detect(f, NULL, "no memory.reclaim: Linux 5.19 or later");
	/* pressure off for cgroups only (cgroup_disable=pressure leaves no memory.pressure) */
	put(f, "sys/fs/cgroup/memory.reclaim", "");
	del(f, "sys/fs/cgroup/memory.pressure");
	detect(f, NULL, "has no memory.pressure: pressure accounting of cgroups is off (drop cgroup_disable=pressure");
	/* PSI off altogether */
	del(f, "proc/pressure/memory");
	put(f, "proc/cmdline", "psi=0\n");
	detect(f, NULL, "psi=0 on the kernel command line turns it off: boot with psi=1");
	/* the memory controller bound to v1 and no v1 mount: nothing to work on */
	put(f, "sys/fs/cgroup/cgroup.controllers", "cpu io\n");
	detect(f, NULL, "no memory cgroup hierarchy is mounted");
}

static void test_detect_openeuler(void **state)
{
	struct fx *f = *state;
	g_autoptr(psi_backend) b = NULL;
	g_autofree char *cpuacct = at(f, "sys/fs/cgroup/cpu,cpuacct");

	openeuler(f);
	b = detect(f, "cgroup1-reclaim", NULL);
	assert_string_equal(b->psi.mnt, cpuacct);
	/* psi_v1 off: cpuacct has no pressure files */
	del(f, "sys/fs/cgroup/cpu,cpuacct/memory.pressure");
	put(f, "proc/cmdline", "psi=1\n");
	detect(f, NULL, "no memory.pressure in the cgroup v1 cpuacct hierarchy: boot with psi_v1=1");
	put(f, "boot/config", "CONFIG_PSI=y\n");
	detect(f, NULL, "built without CONFIG_PSI_CGROUP_V1");
	/* no cpuacct hierarchy mounted at all */
	mountinfo(f, "cgroup /sys/fs/cgroup/memory rw,memory\n");
	detect(f, NULL, "no cgroup v1 cpuacct hierarchy is mounted");
}

static void test_stat_parse(void **state)
{
	static const char v1[] = "cache 1\nrss 2\ninactive_anon 4096\nactive_anon 4096\ninactive_file 4096\n"
				 "active_file 4096\nunevictable 0\ntotal_inactive_anon 100\ntotal_active_anon 200\n"
				 "total_inactive_file 300\ntotal_active_file 400\ntotal_unevictable 8\n";
	static const char v2[] = "anon 300\nfile 700\nkernel 4096\nactive_anon 100\ninactive_anon 200\n"
				 "active_file 300\ninactive_file 400\nunevictable 0";
	struct psi_stat s;

	(void)state;
	/* v1: the hierarchical totals */
	assert_int_equal(psi_stat_parse(v1, strlen(v1), &s), 0);
	assert_int_equal(s.anon, 300);
	assert_int_equal(s.file, 700);
	assert_int_equal(s.unevictable, 8);
	assert_int_equal(s.active, 600);
	assert_int_equal(psi_stat_parse(v2, strlen(v2), &s), 0);
	assert_int_equal(s.anon, 300);
	assert_int_equal(s.file, 700);
	assert_int_equal(s.active, 400);
	/* an LRU line missing, or a malformed value */
	assert_int_equal(psi_stat_parse("active_anon 1\ninactive_anon 2\nactive_file 3\n", 43, &s), -EINVAL);
	assert_int_equal(psi_stat_parse("active_anon 1\ninactive_anon 2\nactive_file 3\ninactive_file x\n", 60, &s),
			 -EINVAL);
	assert_int_equal(psi_stat_parse("", 0, &s), -EINVAL);
	/* saturating sums */
	{
		static const char big[] = "active_anon 18000000000000000000\ninactive_anon 18000000000000000000\n"
					  "active_file 0\ninactive_file 0\n";

		assert_int_equal(psi_stat_parse(big, strlen(big), &s), 0);
		assert_int_equal(s.anon, UINT64_MAX);
	}
	/* refaults: none before 4.15, one count until 5.9, anon and file apart since */
	assert_int_equal(psi_stat_parse(v2, strlen(v2), &s), 0);
	assert_false(s.has_refaults);
	{
		static const char old[] = "active_anon 1\ninactive_anon 2\nactive_file 3\ninactive_file 4\n"
					  "workingset_refault 77\n";
		static const char now[] = "active_anon 1\ninactive_anon 2\nactive_file 3\ninactive_file 4\n"
					  "workingset_refault_anon 10\nworkingset_refault_file 5\n";
		static const char bad[] = "active_anon 1\ninactive_anon 2\nactive_file 3\ninactive_file 4\n"
					  "workingset_refault_anon -1\n";

		assert_int_equal(psi_stat_parse(old, strlen(old), &s), 0);
		assert_true(s.has_refaults);
		assert_int_equal(s.refaults, 77);
		assert_int_equal(psi_stat_parse(now, strlen(now), &s), 0);
		assert_true(s.has_refaults);
		assert_int_equal(s.refaults, 15);
		assert_int_equal(psi_stat_parse(bad, strlen(bad), &s), -EINVAL);
	}
}

static void test_procs_covered(void **state)
{
	bool c = false;

	(void)state;
	assert_int_equal(psi_procs_covered("12\n34\n", 6, "34\n12\n99\n", 9, &c), 0);
	assert_true(c);
	assert_int_equal(psi_procs_covered("12\n35\n", 6, "34\n12\n", 6, &c), 0);
	assert_false(c);
	/* an empty cgroup is covered by anything */
	assert_int_equal(psi_procs_covered("", 0, "", 0, &c), 0);
	assert_true(c);
	assert_int_equal(psi_procs_covered("12\nx\n", 5, "12\n", 3, &c), -EINVAL);
	assert_int_equal(psi_procs_covered("0\n", 2, "0\n", 2, &c), -EINVAL);
	assert_int_equal(psi_procs_covered("1\n", 2, "4294967296\n", 11, &c), -EINVAL);
}

/* A v1 memory cgroup: 1 GiB used, 600 MiB anon, 300 MiB file, no limit. */
static void v1_cgroup(const struct fx *f, const char *rel, const char *swappiness)
{
	g_autofree char *dir = g_build_filename("sys/fs/cgroup/memory", rel, NULL);
	g_autofree char *p = NULL;

	mkd(f, dir);
	g_free(p), p = g_build_filename(dir, "memory.usage_in_bytes", NULL);
	put(f, p, "1073741824\n");
	g_free(p), p = g_build_filename(dir, "memory.limit_in_bytes", NULL);
	put(f, p, V1_UNLIMITED "\n");
	g_free(p), p = g_build_filename(dir, "memory.swappiness", NULL);
	put(f, p, swappiness);
	g_free(p), p = g_build_filename(dir, "memory.stat", NULL);
	put(f, p,
	    "total_inactive_anon 524288000\ntotal_active_anon 104857600\ntotal_inactive_file 209715200\n"
	    "total_active_file 104857600\ntotal_unevictable 0\n");
	g_free(p), p = g_build_filename(dir, "cgroup.procs", NULL);
	put(f, p, "100\n200\n");
}

static void read_ok(const struct psi_backend *b, const char *rel, struct psi_readings *r, enum psi_source want)
{
	enum psi_source src = PSI_SRC_NSOURCES;

	assert_int_equal(psi_backend_read(b, rel, r, &src), 0);
	if (src != want)
		fail_msg("pressure from %s, expected %s", psi_source_name(src), psi_source_name(want));
}

static void test_v1_readings_and_sources(void **state)
{
	struct fx *f = *state;
	g_autoptr(psi_backend) b = NULL;
	struct psi_readings r;

	host_like(f);
	v1_cgroup(f, "pods/a", "60\n");
	b = detect(f, "cgroup1-limit", NULL);
	/* no twin: the system's pressure */
	read_ok(b, "pods/a", &r, PSI_SRC_SYSTEM_NO_TWIN);
	assert_float_equal(r.pressure, 1.25, 1e-9);
	assert_int_equal(r.usage, GiB);
	assert_true(r.limit >= PSI_LIMIT_NONE);
	assert_int_equal(r.min, 0);
	assert_int_equal(r.anon, 600 * MiB);
	assert_int_equal(r.file, 300 * MiB);
	/* v1 has no swap limit of its own: the system's free swap (1 GiB here) */
	assert_int_equal(r.swap_room, GiB);
	/* a twin with other processes: still the system's */
	put(f, "sys/fs/cgroup/unified/pods/a/cgroup.procs", "100\n");
	put(f, "sys/fs/cgroup/unified/pods/a/memory.pressure", "some avg10=7.00 avg60=3.00 avg300=0.00 total=5\n");
	read_ok(b, "pods/a", &r, PSI_SRC_SYSTEM_TWIN_DIFF);
	assert_float_equal(r.pressure, 1.25, 1e-9);
	/* the twin holds all of them (and one more): its own pressure */
	put(f, "sys/fs/cgroup/unified/pods/a/cgroup.procs", "200\n300\n100\n");
	read_ok(b, "pods/a", &r, PSI_SRC_TWIN);
	assert_float_equal(r.pressure, 7.0, 1e-9);
	/* swappiness 0: memcg reclaim leaves anon alone, so all of it is unreclaimable */
	v1_cgroup(f, "pods/b", "0\n");
	read_ok(b, "pods/b", &r, PSI_SRC_SYSTEM_NO_TWIN);
	assert_int_equal(r.swap_room, 0);
	/* a vanished cgroup: an error, not figures */
	{
		enum psi_source src;

		assert_int_equal(psi_backend_read(b, "pods/gone", &r, &src), -ENOENT);
	}
}

static void test_v2_readings_and_reclaim(void **state)
{
	struct fx *f = *state;
	g_autoptr(psi_backend) b = NULL;
	struct psi_readings r;
	struct psi_reclaim_res res;
	char buf[64];
	g_autofree char *dir = NULL;

	v2_only(f);
	put(f, "sys/fs/cgroup/app/memory.current", "1073741824\n");
	put(f, "sys/fs/cgroup/app/memory.max", "max\n");
	put(f, "sys/fs/cgroup/app/memory.min", "104857600\n");
	put(f, "sys/fs/cgroup/app/memory.low", "209715200\n");
	put(f, "sys/fs/cgroup/app/memory.stat",
	    "anon 1\nactive_anon 104857600\ninactive_anon 524288000\n"
	    "active_file 0\ninactive_file 314572800\nunevictable 0\n");
	put(f, "sys/fs/cgroup/app/memory.swap.max", "max\n");
	put(f, "sys/fs/cgroup/app/memory.swap.current", "0\n");
	put(f, "sys/fs/cgroup/app/memory.pressure", "some avg10=0.05 avg60=0.08 avg300=0.00 total=5\n");
	put(f, "sys/fs/cgroup/app/memory.reclaim", "");
	b = detect(f, "cgroup2", NULL);
	read_ok(b, "app", &r, PSI_SRC_OWN);
	assert_float_equal(r.pressure, 0.08, 1e-9);
	assert_int_equal(r.limit, UINT64_MAX);
	assert_int_equal(r.min, 100 * MiB);
	assert_int_equal(r.low, 200 * MiB);
	assert_int_equal(r.swap_room, 4 * GiB); /* swap.max "max": the system's free swap */
	/* a swap limit of its own */
	put(f, "sys/fs/cgroup/app/memory.swap.max", "536870912\n");
	put(f, "sys/fs/cgroup/app/memory.swap.current", "432013312\n");
	read_ok(b, "app", &r, PSI_SRC_OWN);
	assert_int_equal(r.swap_room, 100 * MiB);
	/* reclaim: 100 MiB in two writes (64 + 36 MiB), plain decimals without a NUL */
	assert_int_equal(b->ops->reclaim(b, "app", 100 * MiB, &res), 0);
	assert_int_equal(res.steps, 2);
	assert_int_equal(res.asked, 100 * MiB);
	assert_false(res.busy);
	assert_int_equal(res.reclaimed, 0); /* a stand-in file does not shrink */
	dir = at(f, "sys/fs/cgroup/app");
	get_file(dir, "memory.reclaim", buf, sizeof(buf));
	assert_string_equal(buf, "37748736");
	/* a cgroup without memory.reclaim: the error of the write */
	put(f, "sys/fs/cgroup/old/memory.current", "1\n");
	assert_int_equal(b->ops->reclaim(b, "old", MiB, &res), -ENOENT);
}

static void test_openeuler_sources_and_reclaim(void **state)
{
	struct fx *f = *state;
	g_autoptr(psi_backend) b = NULL;
	struct psi_readings r;
	struct psi_reclaim_res res;
	char buf[64];
	g_autofree char *dir = NULL;

	openeuler(f);
	v1_cgroup(f, "isulad", "60\n");
	put(f, "sys/fs/cgroup/memory/isulad/memory.reclaim", "");
	b = detect(f, "cgroup1-reclaim", NULL);
	/* no cpuacct cgroup of that name: the system's */
	read_ok(b, "isulad", &r, PSI_SRC_SYSTEM_NO_TWIN);
	put(f, "sys/fs/cgroup/cpu,cpuacct/isulad/memory.pressure", "some avg10=0.20 avg60=0.10 avg300=0 total=1\n");
	read_ok(b, "isulad", &r, PSI_SRC_CPUACCT);
	assert_float_equal(r.pressure, 0.2, 1e-9);
	assert_int_equal(b->ops->reclaim(b, "isulad", 8 * MiB, &res), 0);
	assert_int_equal(res.steps, 1);
	dir = at(f, "sys/fs/cgroup/memory/isulad");
	get_file(dir, "memory.reclaim", buf, sizeof(buf));
	assert_string_equal(buf, "8388608");
}

/*
 * cgroup1-limit reclaims through the scan library's etm_memcg_reclaim():
 * stepwise cuts of memory.limit_in_bytes, the original limit written back.
 */
static void test_limit_reclaim(void **state)
{
	struct fx *f = *state;
	g_autoptr(psi_backend) b = NULL;
	struct psi_reclaim_res res;
	char buf[64];
	g_autofree char *dir = NULL;

	host_like(f);
	v1_cgroup(f, "pods/a", "60\n");
	/*
	 * A limit of as many digits as the cuts (the stand-in file is not
	 * truncated by a write): only the restore leaves exactly it there.
	 */
	put(f, "sys/fs/cgroup/memory/pods/a/memory.limit_in_bytes", "2147483648\n");
	b = detect(f, "cgroup1-limit", NULL);
	assert_int_equal(b->ops->reclaim(b, "pods/a", 200 * MiB, &res), 0);
	/* cuts of at most 64 MiB from the usage down to 1 GiB - 200 MiB */
	assert_int_equal(res.asked, 200 * MiB);
	assert_int_equal(res.steps, 4);
	assert_false(res.restore_failed);
	dir = at(f, "sys/fs/cgroup/memory/pods/a");
	get_file(dir, "memory.limit_in_bytes", buf, sizeof(buf));
	assert_string_equal(buf, "2147483648\n");
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_mounts),
		cmocka_unit_test(test_cmdline_kconfig),
		cmocka_unit_test(test_diagnose),
		cmocka_unit_test(test_stat_parse),
		cmocka_unit_test(test_procs_covered),
		T(test_detect_plain_v1),
		T(test_detect_v1_no_cgroup2),
		T(test_detect_no_psi),
		T(test_detect_v2),
		T(test_detect_openeuler),
		T(test_v1_readings_and_sources),
		T(test_v2_readings_and_reclaim),
		T(test_openeuler_sources_and_reclaim),
		T(test_limit_reclaim),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
