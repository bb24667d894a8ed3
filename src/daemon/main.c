/* SPDX-License-Identifier: MulanPSL-2.0 */
/*
 * etmemd: the resident daemon. It owns the registry, serves the control
 * socket, and on SIGTERM/SIGINT stops every task (each engine restores the
 * system state it changed) and exits 0. SIGHUP is logged and ignored.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cmdline.h"
#include "common/log.h"
#include "metrics.h"
#include "registry.h"
#include "scan/damon_sysfs.h"
#include "scan/memcg_journal.h"
#include "server.h"

#define ETMEMD_PID_FILE "/run/etmemd.pid"

/*
 * -m: fork, and let the parent exit 0 only once the child listens, so that a
 * Type=forking unit is "started" exactly when clients can connect. The child
 * reports readiness (or its error text) through @pipe_fd.
 */
static int daemonize(int *report_fd)
{
	int p[2];
	pid_t pid;
	char msg[512];
	ssize_t n;

	if (pipe2(p, O_CLOEXEC) != 0)
		return -errno;
	pid = fork();
	if (pid < 0)
		return -errno;
	if (pid > 0) {
		close(p[1]);
		n = read(p[0], msg, sizeof(msg) - 1);
		if (n <= 0) {
			fprintf(stderr, "etmemd: daemon exited during start-up\n");
			exit(1);
		}
		msg[n] = '\0';
		if (strcmp(msg, "OK") != 0) {
			fprintf(stderr, "etmemd: %s\n", msg);
			exit(1);
		}
		int fd = open(ETMEMD_PID_FILE, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);

		if (fd >= 0) {
			dprintf(fd, "%d\n", (int)pid);
			close(fd);
		} else {
			fprintf(stderr, "etmemd: warning: cannot write %s: %s\n", ETMEMD_PID_FILE, strerror(errno));
		}
		exit(0);
	}
	close(p[0]);
	setsid();
	*report_fd = p[1];
	return 0;
}

static void report(int fd, const char *msg)
{
	if (fd >= 0 && write(fd, msg, strlen(msg)) < 0)
		etm_err("cannot report start-up status: %s", strerror(errno));
}

static void detach_stdio(void)
{
	int fd = open("/dev/null", O_RDWR);

	if (fd < 0)
		return;
	dup2(fd, STDIN_FILENO);
	dup2(fd, STDOUT_FILENO);
	dup2(fd, STDERR_FILENO);
	if (fd > STDERR_FILENO)
		close(fd);
}

/*
 * Undo what a previous etmemd that died left in the kernel (journal.h): a
 * cgroup v1 limit lowered in the middle of a reclaim, a DAMON kdamond still
 * running. Done before any task starts, so nothing of ours is mistaken for
 * a dead daemon's.
 */
static void recover_journal(void)
{
	unsigned restored = 0, stopped = 0;
	int err = etm_memcg_journal_recover(ETM_RUN_DIR, &restored);

	if (err)
		etm_warn("journal %s: %s (the records that could not be undone stay for the next start)", ETM_RUN_DIR,
			 strerror(-err));
	if (restored)
		etm_warn("restored %u memory cgroup limit(s) a dead etmemd had lowered", restored);
	if ((err = etm_kdamond_recover(ETM_RUN_DIR, &stopped)))
		etm_warn("journal %s: %s", ETM_RUN_DIR, strerror(-err));
	if (stopped)
		etm_warn("released %u DAMON kdamond(s) a dead etmemd had left", stopped);
}

/*
 * The signalfd is readable: SIGTERM and SIGINT stop the daemon. SIGHUP
 * (conventionally "reload") does not: etmemd keeps no configuration of its
 * own to reload, and a stray hangup must not stop every task.
 */
static bool take_signal(int sig_fd)
{
	struct signalfd_siginfo si;
	ssize_t n = read(sig_fd, &si, sizeof(si));

	if (n != (ssize_t)sizeof(si))
		return false;
	if (si.ssi_signo == SIGHUP) {
		etm_warn("SIGHUP from pid %u ignored: etmemd has nothing to reload (use etmem obj del/add)",
			 (unsigned)si.ssi_pid);
		return false;
	}
	etm_info("%s from pid %u", strsignal((int)si.ssi_signo), (unsigned)si.ssi_pid);
	return true;
}

int main(int argc, char **argv)
{
	struct etmemd_opts opts;
	struct etm_registry *reg;
	struct etm_server *srv = NULL;
	struct etm_metrics_writer *metrics = NULL;
	GString *err = g_string_new(NULL);
	int report_fd = -1, sig_fd, ret;
	sigset_t mask;

	if (etmemd_parse_args(argc, argv, &opts, err) != 0) {
		fprintf(stderr, "etmemd: %s\nTry 'etmemd --help'.\n", err->str);
		g_string_free(err, TRUE);
		return 1;
	}
	if (opts.help) {
		etmemd_print_help(stdout);
		g_string_free(err, TRUE);
		return 0;
	}
	if (opts.systemd_mode && daemonize(&report_fd) != 0) {
		fprintf(stderr, "etmemd: cannot fork: %s\n", strerror(errno));
		return 1;
	}
	etm_log_init("etmemd", opts.log_level, !opts.systemd_mode);

	/* Signals are taken synchronously by the accept loop, never by handlers. */
	sigemptyset(&mask);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &mask, NULL);
	signal(SIGPIPE, SIG_IGN);
	sig_fd = signalfd(-1, &mask, SFD_CLOEXEC);

	recover_journal();
	reg = etm_registry_new();
	if (!reg || sig_fd < 0) {
		g_string_assign(err, "out of resources at start-up");
		ret = -ENOMEM;
	} else {
		ret = etm_server_new(opts.socket, reg, &srv, err);
	}
	if (!ret && opts.metrics_file)
		ret = etm_metrics_writer_start(reg, opts.metrics_file, opts.metrics_interval_s, &metrics, err);
	if (ret) {
		etm_err("%s", err->str);
		/* In the foreground the log already went to stderr. */
		if (report_fd >= 0)
			report(report_fd, err->str);
		etm_server_free(srv);
		etm_registry_free(reg);
		g_string_free(err, TRUE);
		return 1;
	}
	if (report_fd >= 0) {
		report(report_fd, "OK");
		close(report_fd);
		if (chdir("/") != 0)
			etm_warn("chdir /: %s", strerror(errno));
		detach_stdio();
	}
	etm_info("etmemd %s started on socket @%s, log level %d", ETMEM_VERSION, opts.socket, opts.log_level);

	etm_server_run(srv, sig_fd, take_signal);
	/* The server has joined every client thread: nothing else uses the registry now. */
	etm_info("stopping: stopping every task and restoring system state");
	etm_metrics_writer_stop(metrics);
	etm_registry_stop_all(reg);
	/* Every reclaim of ours is over: leave no empty runtime directory behind (others' records keep it). */
	rmdir(ETM_RUN_DIR);
	etm_registry_free(reg);
	etm_server_free(srv);
	close(sig_fd);
	g_string_free(err, TRUE);
	etm_info("etmemd exited");
	return 0;
}
