/* SPDX-License-Identifier: MulanPSL-2.0 */
/* psi engine: mounts, PSI availability and its diagnosis (psi_kernel.h). */
#include "psi_kernel.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/utsname.h>

#include "scan/procfs.h"

/* The command line is at most a few KiB (COMMAND_LINE_SIZE); a config a few hundred. */
#define CMDLINE_MAX (64 << 10)
#define KCONFIG_MAX (4 << 20)

const struct psi_sys psi_sys_host = {
	.mountinfo = "/proc/self/mountinfo",
	.standin = false,
	.proc_pressure = "/proc/pressure/memory",
	.meminfo = "/proc/meminfo",
	.cmdline = "/proc/cmdline",
	.kconfig = NULL,
	.jdir = NULL,
};

void psi_mounts_parse(const char *buf, size_t len, struct psi_mounts *out)
{
	memset(out, 0, sizeof(*out));
	out->has_memory_v1 = !etm_cgroup_ctrl_parse(buf, len, "memory", &out->memory_v1);
	out->has_cpuacct_v1 = !etm_cgroup_ctrl_parse(buf, len, "cpuacct", &out->cpuacct_v1);
	out->has_unified = !etm_cgroup_ctrl_parse(buf, len, NULL, &out->unified);
}

/* A stand-in mount: the filesystem its directory is really on. */
static void standin_fs(struct etm_cgroup_root *r)
{
	struct statfs sf;
	struct stat st;

	if (!statfs(r->mnt, &sf) && !stat(r->mnt, &st)) {
		r->magic = (long)sf.f_type;
		r->dev = st.st_dev;
	}
}

int psi_mounts_read(const struct psi_sys *sys, struct psi_mounts *out)
{
	char *buf;
	size_t len;
	int err = etm_read_file(sys->mountinfo, &buf, &len, 1 << 20);

	if (err) {
		memset(out, 0, sizeof(*out));
		return err;
	}
	psi_mounts_parse(buf, len, out);
	free(buf);
	if (sys->standin) {
		standin_fs(&out->memory_v1);
		standin_fs(&out->cpuacct_v1);
		standin_fs(&out->unified);
	}
	return 0;
}

/* The kernel's kstrtobool, as its psi= and psi_v1= handlers use it. */
static int kbool(const char *v, size_t n)
{
	static const char *const on[] = { "1", "y", "Y", "on" }, *const off[] = { "0", "n", "N", "off" };

	for (size_t i = 0; i < G_N_ELEMENTS(on); i++) {
		if (strlen(on[i]) == n && !memcmp(v, on[i], n))
			return 1;
		if (strlen(off[i]) == n && !memcmp(v, off[i], n))
			return 0;
	}
	return -1;
}

int psi_cmdline_bool(const char *cmdline, size_t len, const char *param)
{
	const char *p = cmdline, *end = cmdline + len;
	size_t pl = strlen(param);
	int r = -1;

	while (p < end) {
		const char *s = p, *e;

		while (s < end && (*s == ' ' || *s == '\n' || *s == '\t'))
			s++;
		e = s;
		while (e < end && *e != ' ' && *e != '\n' && *e != '\t')
			e++;
		if (e - s == 2 && !memcmp(s, "--", 2))
			break;
		if ((size_t)(e - s) > pl && !memcmp(s, param, pl) && s[pl] == '=')
			r = kbool(s + pl + 1, (size_t)(e - s) - pl - 1);
		p = e;
	}
	return r;
}

char psi_kconfig_value(const char *buf, size_t len, const char *name)
{
	g_autofree char *set = g_strdup_printf("CONFIG_%s=", name);
	g_autofree char *unset = g_strdup_printf("# CONFIG_%s is not set", name);
	size_t sl = strlen(set), ul = strlen(unset);
	const char *p = buf, *end = buf + len;

	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *le = nl ? nl : end;
		size_t n = (size_t)(le - p);

		if (n == ul && !memcmp(p, unset, ul))
			return 'n';
		if (n == sl + 1 && !memcmp(p, set, sl))
			return p[sl] == 'y' || p[sl] == 'm' || p[sl] == 'n' ? p[sl] : 0;
		p = le + 1;
	}
	return 0;
}

/* System-wide PSI missing: CONFIG_PSI, psi=0, or a default-off kernel without psi=1. */
static void why_no_psi(int psi, const char *kc, size_t kl, GString *out)
{
	char psi_cfg = kc ? psi_kconfig_value(kc, kl, "PSI") : 0;
	char dflt_off = kc ? psi_kconfig_value(kc, kl, "PSI_DEFAULT_DISABLED") : 0;

	if (kc && psi_cfg != 'y') {
		g_string_append(out, "the kernel is built without CONFIG_PSI: a kernel with CONFIG_PSI=y is needed");
		return;
	}
	if (psi == 0) {
		g_string_append(out, "psi=0 on the kernel command line turns it off: boot with psi=1");
		return;
	}
	if (dflt_off == 'y') {
		g_string_append(out,
				"the kernel turns PSI off by default (CONFIG_PSI_DEFAULT_DISABLED=y): boot with psi=1");
		return;
	}
	g_string_append(out, "boot with psi=1, on a kernel built with CONFIG_PSI=y");
	if (!kc)
		g_string_append(out, " (no kernel config found to tell which is missing)");
}

void psi_diagnose(const char *cmdline, size_t cmdline_len, const char *kconfig, size_t kconfig_len, bool system_psi,
		  bool v1_cpuacct, GString *out)
{
	int psi = cmdline ? psi_cmdline_bool(cmdline, cmdline_len, "psi") : -1;
	int psi_v1 = cmdline ? psi_cmdline_bool(cmdline, cmdline_len, "psi_v1") : -1;
	char v1_cfg = kconfig ? psi_kconfig_value(kconfig, kconfig_len, "PSI_CGROUP_V1") : 0;

	if (!system_psi) {
		g_string_append(out, "no memory pressure (PSI) in this kernel, /proc/pressure/memory is missing: ");
		why_no_psi(psi, kconfig, kconfig_len, out);
		if (!v1_cpuacct)
			return;
		g_string_append(out, "; and for cgroup v1, ");
	} else if (v1_cpuacct) {
		g_string_append(out, "no memory.pressure in the cgroup v1 cpuacct hierarchy: ");
	}
	if (!v1_cpuacct)
		return;
	if (kconfig && v1_cfg != 'y')
		g_string_append(out, "the kernel is built without CONFIG_PSI_CGROUP_V1 (openEuler kernels have it)");
	else if (psi_v1 != 1)
		g_string_append(out, "boot with psi_v1=1 (psi=1 psi_v1=1)");
	else
		g_string_append(out, "psi_v1=1 is set: the kernel must be built with CONFIG_PSI_CGROUP_V1=y");
}

/* The text of @path into @buf (NULL when it cannot be read). */
static char *slurp(const char *path, size_t max, size_t *len)
{
	char *buf = NULL;

	if (!path || etm_read_file(path, &buf, len, max))
		return NULL;
	return buf;
}

void psi_diagnose_sys(const struct psi_sys *sys, bool system_psi, bool v1_cpuacct, GString *out)
{
	g_autofree char *kpath = NULL;
	size_t cl = 0, kl = 0;
	char *cmd = slurp(sys->cmdline, CMDLINE_MAX, &cl), *kc;
	struct utsname u;

	if (sys->kconfig)
		kpath = g_strdup(sys->kconfig);
	else if (!uname(&u))
		kpath = g_strdup_printf("/boot/config-%s", u.release);
	kc = slurp(kpath, KCONFIG_MAX, &kl);
	psi_diagnose(cmd, cl, kc, kl, system_psi, v1_cpuacct, out);
	free(cmd);
	free(kc);
}
