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

# Cache key of the kernel: fragment contents + kernel source version +
# the build recipe version. Any change gives a new kernel directory.
RIG_RECIPE_VERSION=1
rig_kernel_key() {
	local ver
	ver=$(dpkg-query -W -f '${Version}' "$RIG_KSRC_PKG" 2>/dev/null ||
	      apt-cache policy "$RIG_KSRC_PKG" | awk '/Candidate:/ {print $2}')
	{ cat "$RIG_SRC_DIR/rig.config"; echo "src=$RIG_KSRC_PKG $ver"; \
	  echo "recipe=$RIG_RECIPE_VERSION"; } | sha256sum | cut -c1-16
}
