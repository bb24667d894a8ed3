#!/bin/bash
# build-kernel.sh - build (or find in the cache) the etmem rig kernel.
#
# Usage: tests/vm/build-kernel.sh [--force] [--print]
#   Prints the path of the bzImage on stdout (last line), progress on stderr.
#   --force  rebuild even when a cached kernel for this key exists
#
# The kernel is `make tinyconfig` + tests/vm/rig.config from the Debian
# package linux-source-6.12, everything built in (no modules). It is cached
# in ${ETMEM_RIG_CACHE:-/var/cache/etmem-rig}/kernel-<key>/bzImage where key
# hashes the fragment and the source version, so only a changed fragment (or
# a new source package) rebuilds it. The unpacked source and the object tree
# stay in the cache too, so a rebuild after a fragment change is incremental.
# Cold build: ~4 min on 2 cores. Concurrent callers serialise on a lock.
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

force=0
for a in "$@"; do
	case $a in
	--force) force=1 ;;
	--print) ;;
	-h | --help) sed -n '2,14p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
	*) rig_die "unknown argument $a" ;;
	esac
done

mkdir -p "$RIG_CACHE"
rig_need_pkgs "$RIG_KSRC_PKG" bison flex libelf-dev bc make gcc xz-utils
key=$(rig_kernel_key)
out="$RIG_CACHE/kernel-$key"

exec 9>"$RIG_CACHE/build.lock"
flock 9
if [ $force = 0 ] && [ -s "$out/bzImage" ]; then
	echo "$out/bzImage"
	exit 0
fi

ver=$(dpkg-query -W -f '${Version}' "$RIG_KSRC_PKG")
src="$RIG_CACHE/src-$ver"
if [ ! -f "$src/.unpacked" ]; then
	rig_log "unpacking $RIG_KSRC_PKG $ver"
	rm -rf "$src"
	mkdir -p "$src"
	tar -C "$src" --strip-components=1 -xf /usr/src/$RIG_KSRC_PKG.tar.xz
	touch "$src/.unpacked"
fi

obj="$RIG_CACHE/obj"
mkdir -p "$obj"
t0=$(date +%s)
rig_log "configuring (tinyconfig + rig.config) in $obj"
make -s -C "$src" O="$obj" tinyconfig >&2
(cd "$src" && scripts/kconfig/merge_config.sh \
	-m -O "$obj" "$obj/.config" "$RIG_SRC_DIR/rig.config" >/dev/null)
make -s -C "$src" O="$obj" olddefconfig >&2

# A silently dropped option would give a kernel that lacks a feature and
# tests that skip for the wrong reason: report every =y that did not stick.
bad=0
while IFS= read -r line; do
	case $line in CONFIG_*=y) ;; *) continue ;; esac
	grep -qx "$line" "$obj/.config" || { rig_log "warning: $line not in final .config"; bad=1; }
done <"$RIG_SRC_DIR/rig.config"
[ $bad = 0 ] || rig_log "some fragment options were dropped (dependencies?)"

rig_log "building bzImage with -j$(nproc)"
make -s -C "$src" O="$obj" -j"$(nproc)" bzImage >&2
mkdir -p "$out"
cp "$obj/arch/x86/boot/bzImage" "$out/bzImage.tmp"
cp "$obj/.config" "$out/config"
cp "$RIG_SRC_DIR/rig.config" "$out/rig.config"
echo "$ver" >"$out/source-version"
mv "$out/bzImage.tmp" "$out/bzImage"
rig_log "kernel built in $(($(date +%s) - t0)) s: $out/bzImage"
echo "$out/bzImage"
