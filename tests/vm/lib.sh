# Shared helpers for the etmem VM test rig (sourced, not executed).

RIG_SRC_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
RIG_CACHE=${ETMEM_RIG_CACHE:-/var/cache/etmem-rig}
RIG_KSRC_PKG=linux-source-6.12

rig_log() { echo "rig: $*" >&2; }
rig_die() { echo "rig: error: $*" >&2; exit 2; }

# Install Debian packages only when missing. Recommends are skipped on
# purpose: QEMU with recommends pulls ~170 packages we never use.
rig_need_pkgs() {
	local missing=() p
	for p in "$@"; do
		dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
	done
	[ ${#missing[@]} -eq 0 ] && return 0
	rig_log "installing: ${missing[*]}"
	export DEBIAN_FRONTEND=noninteractive
	if ! apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2; then
		# Stale package lists are the usual cause; refresh once and retry.
		apt-get update -q >&2 || true
		apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2 ||
			rig_die "apt-get install ${missing[*]} failed"
	fi
}

# The patch series (openEuler etmem interface) and its config fragment.
RIG_SERIES_DIR=$RIG_SRC_DIR/kernel
# The patches in order, without the cover letter (0000-*).
rig_series() { ls "$RIG_SERIES_DIR"/[0-9]*.patch 2>/dev/null | grep -v '/0000-' | sort; }

# Cache key of a kernel flavour (stock: without the series; etmem: with it):
# fragment contents + kernel source version + the build recipe version, and
# for etmem the series and its fragment. Any change gives a new kernel
# directory. The stock key is unchanged by the series, so a stock kernel
# built before it was added stays valid.
RIG_RECIPE_VERSION=1
RIG_ETMEM_RECIPE_VERSION=1
rig_kernel_key() {
	local flavour=${1:-etmem} ver p
	ver=$(dpkg-query -W -f '${Version}' "$RIG_KSRC_PKG" 2>/dev/null ||
	      apt-cache policy "$RIG_KSRC_PKG" | awk '/Candidate:/ {print $2}')
	{
		cat "$RIG_SRC_DIR/rig.config"
		echo "src=$RIG_KSRC_PKG $ver"
		echo "recipe=$RIG_RECIPE_VERSION"
		if [ "$flavour" = etmem ]; then
			echo "etmem-recipe=$RIG_ETMEM_RECIPE_VERSION"
			cat "$RIG_SERIES_DIR/etmem.config"
			for p in $(rig_series); do
				echo "patch=$(basename "$p")"
				cat "$p"
			done
		fi
	} | sha256sum | cut -c1-16
}

# The guest for the openEuler interface's own tests (kselftest, captured
# streams): the interface on and a 1 GiB hugetlb page reserved at boot (the
# CPU model gets pdpe1gb), so that every page size the idle_pages stream
# knows is there. The reservation needs a free 1 GiB-aligned range, which
# here only RAM above 4 GiB had: one node of 5 GiB (QEMU allocates guest
# memory as it is used, about 1.3 GiB for these tests).
RIG_FULL_OPTS=(--kernel openeuler-if --nodes 1 --node-mem 5120 --cpu qemu64,+pdpe1gb
	--append "hugepagesz=1G hugepages=1")
