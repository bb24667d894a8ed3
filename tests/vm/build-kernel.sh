#!/bin/bash
# build-kernel.sh - build (or find in the cache) the etmem rig kernel.
#
# Usage: tests/vm/build-kernel.sh [--stock] [--force] [--print]
#   Prints the path of the bzImage on stdout (last line), progress on stderr.
#   --stock  the kernel without the patch series (see below)
#   --force  rebuild even when a cached kernel for this key exists
#
# The rig kernel is `make tinyconfig` + tests/vm/rig.config from the Debian
# package linux-source-6.12, everything built in (no modules), with the
# patch series tests/vm/kernel/*.patch applied and
# tests/vm/kernel/etmem.config added: the openEuler etmem interface
# (idle_pages, swap_pages, MADV_SWAPFLAG, kernel_swap_enable). run-in-vm.sh
# boots it with that interface switched off unless --kernel openeuler-if.
# Next to the bzImage, selftests/etmem is the series' kselftest, static.
# --stock builds the same kernel without the series.
#
# Kernels are cached in ${ETMEM_RIG_CACHE:-/var/cache/etmem-rig}/kernel-<key>/
# where key hashes the fragments, the series, the source version and this
# recipe, so only a change to one of them rebuilds. The unpacked source
# (src-<ver>, never modified), its patched copy (src-<ver>-etmem: hard
# links, with real copies of the files the series touches) and the object
# trees (obj for stock, obj-etmem) stay in the cache, so that a rebuild is
# incremental. Cold build: ~4 min on 2 cores. Concurrent callers serialise
# on a lock.
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

force=0 flavour=etmem
for a in "$@"; do
	case $a in
	--force) force=1 ;;
	--stock) flavour=stock ;;
	--print) ;;
	-h | --help) sed -n '2,25p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
	*) rig_die "unknown argument $a" ;;
	esac
done

mkdir -p "$RIG_CACHE"
rig_need_pkgs "$RIG_KSRC_PKG" bison flex libelf-dev bc make gcc xz-utils patch libc6-dev
key=$(rig_kernel_key $flavour)
out="$RIG_CACHE/kernel-$key"

exec 9>"$RIG_CACHE/build.lock"
flock 9
if [ $force = 0 ] && [ -s "$out/bzImage" ]; then
	echo "$out/bzImage"
	exit 0
fi

ver=$(dpkg-query -W -f '${Version}' "$RIG_KSRC_PKG")
pristine="$RIG_CACHE/src-$ver"
if [ ! -f "$pristine/.unpacked" ]; then
	rig_log "unpacking $RIG_KSRC_PKG $ver"
	rm -rf "$pristine"
	mkdir -p "$pristine"
	tar -C "$pristine" --strip-components=1 -xf /usr/src/$RIG_KSRC_PKG.tar.xz
	touch "$pristine/.unpacked"
fi

# patch_tree DST: DST becomes the pristine tree with the series applied.
# It is a tree of hard links into the pristine one; the files the series
# touches are patched in a scratch directory and put in as new files, so
# nothing is ever written through a link into the pristine tree. A file is
# only replaced when its patched content changed (its new mtime makes make
# rebuild what uses it); files a previous series touched and this one does
# not get a fresh copy of the pristine file, for the same reason.
patch_tree() {
	local dst=$1 stage f p
	local -a touched old
	mapfile -t touched < <(sed -n 's|^+++ b/||p' $(rig_series) | sort -u)
	if [ ! -f "$dst/.linked" ]; then
		rig_log "linking $dst to $pristine"
		rm -rf "$dst"
		cp -al "$pristine" "$dst"
		rm -f "$dst/.unpacked" "$dst/.series-files"
		touch "$dst/.linked"
	fi
	stage=$(mktemp -d /tmp/etmem-series.XXXXXX)
	for f in "${touched[@]}"; do
		mkdir -p "$stage/$(dirname "$f")"
		[ ! -e "$pristine/$f" ] || cp "$pristine/$f" "$stage/$f"
	done
	for p in $(rig_series); do
		patch -s -p1 -d "$stage" --no-backup-if-mismatch <"$p" ||
			{ rm -rf "$stage"; rig_die "$(basename "$p") does not apply to $RIG_KSRC_PKG $ver"; }
	done
	[ -f "$dst/.series-files" ] && mapfile -t old <"$dst/.series-files" || old=()
	for f in "${old[@]+"${old[@]}"}"; do
		printf '%s\n' "${touched[@]}" | grep -qxF "$f" && continue
		rm -f "$dst/$f"
		[ ! -e "$pristine/$f" ] || cp "$pristine/$f" "$dst/$f"
	done
	for f in "${touched[@]}"; do
		if [ ! -e "$stage/$f" ]; then
			rm -f "$dst/$f"
		elif ! cmp -s "$stage/$f" "$dst/$f" || [ "$dst/$f" -ef "$pristine/$f" ]; then
			rm -f "$dst/$f"
			mkdir -p "$dst/$(dirname "$f")"
			cp "$stage/$f" "$dst/$f"
		fi
	done
	printf '%s\n' "${touched[@]}" >"$dst/.series-files"
	rm -rf "$stage"
}

frags=("$RIG_SRC_DIR/rig.config")
if [ $flavour = stock ]; then
	src=$pristine obj="$RIG_CACHE/obj"
else
	src="$pristine-etmem" obj="$RIG_CACHE/obj-etmem"
	frags+=("$RIG_SERIES_DIR/etmem.config")
	[ -n "$(rig_series)" ] || rig_die "no patches in $RIG_SERIES_DIR"
	patch_tree "$src"
fi

mkdir -p "$obj"
t0=$(date +%s)
rig_log "configuring $flavour kernel (tinyconfig + ${frags[*]##*/}) in $obj"
make -s -C "$src" O="$obj" tinyconfig >&2
(cd "$src" && scripts/kconfig/merge_config.sh \
	-m -O "$obj" "$obj/.config" "${frags[@]}" >/dev/null)
make -s -C "$src" O="$obj" olddefconfig >&2

# A silently dropped option would give a kernel that lacks a feature and
# tests that skip for the wrong reason: report every =y that did not stick.
bad=0
while IFS= read -r line; do
	case $line in CONFIG_*=y) ;; *) continue ;; esac
	grep -qx "$line" "$obj/.config" || { rig_log "warning: $line not in final .config"; bad=1; }
done < <(cat "${frags[@]}")
[ $bad = 0 ] || rig_log "some fragment options were dropped (dependencies?)"

rig_log "building bzImage with -j$(nproc)"
make -s -C "$src" O="$obj" -j"$(nproc)" bzImage >&2
mkdir -p "$out"
if [ $flavour = etmem ]; then
	# The series' kselftest, static (the guest has no libc), against the
	# uapi headers of this tree.
	rig_log "building the etmem kselftest"
	make -s -C "$src" O="$obj" headers >&2
	mkdir -p "$out/selftests"
	gcc -static -O2 -Wall -isystem "$obj/usr/include" \
		-I "$src/tools/testing/selftests" \
		-o "$out/selftests/etmem" "$src/tools/testing/selftests/mm/etmem.c" >&2
	cp $(rig_series) "$out/"
fi
cp "$obj/arch/x86/boot/bzImage" "$out/bzImage.tmp"
cp "$obj/.config" "$out/config"
cat "${frags[@]}" >"$out/rig.config"
echo "$ver" >"$out/source-version"
mv "$out/bzImage.tmp" "$out/bzImage"
rig_log "kernel built in $(($(date +%s) - t0)) s: $out/bzImage"
echo "$out/bzImage"
