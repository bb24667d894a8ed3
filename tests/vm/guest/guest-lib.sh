# Helpers for guest test scripts (busybox ash), on top of the tests' one
# helper library (tests/lib/etm.sh, in the guest /rig/etm.sh: the exit
# convention, JSON reports, the workload). Use: . /rig/guest-lib.sh
. /rig/etm.sh

WL=etmem-workload-static
RT=etmem-rigtool-static
PAGE=4096

# rt_part OUTPUT hot|cold KEY: value from etmem-rigtool output lines
rt_part() { echo "$1" | grep "^$2 " | tr ' ' '\n' | sed -n "s/^$3=//p"; }

# tlb_noise CPU: a busy loop sharing CPU with the workload, so that the
# workload is context-switched every few ms.
# Why: page_idle and DAMON clear a PTE's young bit without a TLB flush (as
# on hardware). QEMU's software TLB is large, and a process that runs alone on
# its vCPU keeps its translations forever, so later accesses never set the bit
# again and hot pages look idle. Each switch between processes reloads CR3,
# which flushes QEMU's TLB (qemu64 has no PCID), like TLB pressure does on a
# loaded real server. Sets NOISE_PID; stop it with tlb_noise_stop.
tlb_noise() {
	taskset -c "$1" sh -c 'while :; do :; done' &
	NOISE_PID=$!
}
tlb_noise_stop() { kill $NOISE_PID 2>/dev/null; wait $NOISE_PID 2>/dev/null; }

# uptime_ms: guest clock for durations (date +%s is too coarse)
uptime_ms() { awk '{printf "%d\n", $1 * 1000}' /proc/uptime; }

# at_least A B PCT: A >= B*PCT/100
at_least() { [ $(($1 * 100)) -ge $(($2 * $3)) ]; }

# wait_until SECONDS COMMAND [ARGS...]: COMMAND (a function for a compound
# condition) once a second until it succeeds or SECONDS have passed. WAIT_MS:
# how long that took. The status: COMMAND's last.
wait_until() {
	local limit=$(($1 * 1000)) t0
	shift
	t0=$(uptime_ms)
	until "$@"; do
		if [ $(($(uptime_ms) - t0)) -ge $limit ]; then
			WAIT_MS=$(($(uptime_ms) - t0))
			return 1
		fi
		sleep 1
	done
	WAIT_MS=$(($(uptime_ms) - t0))
}
