#!/bin/bash
# SPDX-License-Identifier: MulanPSL-2.0
# Builds the Debian packages from this source tree with dpkg-buildpackage
# (debian/, debhelper) into $ETMEM_BUILD_DIR/deb, for the other package.*
# tests, and checks them: lintian has no error or warning, the library
# carries its SONAME and exports exactly the six functions, the packages hold
# what debian/control says, and the unit passes systemd-analyze verify and
# keeps its security exposure score.
# The copy of the tree and its build directory are kept between runs, so a
# rebuild only compiles what changed; DEB_BUILD_OPTIONS=nocheck because
# ctest runs the unit tests already.
set -u
. "$(dirname "$0")/lib.sh"
trap pkg_cleanup EXIT
trap 'exit 1' INT TERM

# The exposure score README.md states, times ten; a change of the unit that
# raises it must update both.
MAX_EXPOSURE=29

for t in dpkg-buildpackage dh lintian systemd-analyze; do
	command -v "$t" >/dev/null || fail "$t missing: scripts/install-deps.sh installs it"
done

# ---- build ----
src=$PKG_DEB_DIR/src
mkdir -p "$src"
# A fresh copy of the tree (tracked and new files, not the build trees),
# keeping the modification times so that make sees what really changed.
find "$src" -mindepth 1 -maxdepth 1 ! -name 'obj-*' -exec rm -rf {} +
(
	cd "$ETMEM_SOURCE_DIR"
	if git rev-parse --git-dir >/dev/null 2>&1; then
		git ls-files -z -co --exclude-standard | while IFS= read -r -d '' f; do
			[ -e "$f" ] && printf '%s\0' "$f"
		done
	else
		find . -path './build*' -prune -o -path './.git' -prune -o -type f -print0
	fi | tar -c --null -T - -f -
) | tar -x -C "$src" || fail "copying the source tree"
rm -f "$PKG_DEB_DIR"/*.deb "$PKG_DEB_DIR"/*.changes "$PKG_DEB_DIR"/*.buildinfo
(cd "$src" && DEB_BUILD_OPTIONS="nocheck parallel=$(nproc)" nice dpkg-buildpackage -b -nc -uc -us) \
	>"$PKG_DEB_DIR/build.log" 2>&1 || fail "dpkg-buildpackage: $(tail -30 "$PKG_DEB_DIR/build.log")"
debs=$(pkg_debs)
echo "built: $(echo "$debs" | xargs -n1 basename | tr '\n' ' ')"

# ---- lintian ----
lintian --fail-on error,warning --display-info --pedantic "$PKG_DEB_DIR"/etmem_*.changes \
	>"$PKG_TMP/lintian.out" 2>&1
rc=$?
grep -v '^running with root' "$PKG_TMP/lintian.out"
[ $rc = 0 ] || fail "lintian reports errors or warnings"

# ---- contents ----
x=$PKG_TMP/x
for d in $debs; do dpkg-deb -x "$d" "$x"; done
lib=$x/usr/lib/$PKG_MA/libetmemd_scan.so.0
soname=$(readelf -d "$lib" | sed -n 's/.*Library soname: \[\(.*\)\]/\1/p')
[ "$soname" = libetmemd_scan.so.0 ] || fail "SONAME of the library: '$soname'"
syms=$(nm -D --defined-only "$lib" | awk '$2 == "T" {print $3}' | sort | tr '\n' ' ')
[ "$syms" = "etmemd_free_page_refs etmemd_free_vmas etmemd_get_page_refs etmemd_get_vmas etmemd_scan_exit etmemd_scan_init " ] ||
	fail "exported functions: $syms"
contents() { dpkg-deb -c "$1" | awk '{print $1, $2, $6}'; }
c=$(contents "$PKG_DEB_DIR"/etmem_*.deb)
for f in ./usr/bin/etmemd ./usr/bin/etmem ./lib/systemd/system/etmemd.service ./usr/share/man/man8/etmemd.8.gz \
	./usr/share/man/man8/etmem.8.gz ./usr/share/man/man5/etmem.conf.5.gz ./usr/bin/etmem-heatmap \
	./usr/share/man/man1/etmem-heatmap.1.gz; do
	grep -q " $f\$" <<<"$c" || fail "etmem lacks $f"
done
for f in slide_conf.yaml cslide_conf.yaml thirdparty_conf.yaml psi_conf.yaml; do
	grep -q "^-rw------- root/root ./etc/etmem/$f\$" <<<"$c" || fail "etmem: /etc/etmem/$f is not 0600 root:root"
done
c=$(contents "$PKG_DEB_DIR"/etmem-dev_*.deb)
for f in ./usr/include/etmem/etmemd_thirdparty_export.h ./usr/include/etmem/etmemd_scan_export.h \
	./usr/lib/$PKG_MA/pkgconfig/etmemd_scan.pc ./usr/lib/$PKG_MA/pkgconfig/etmem-engine.pc \
	./usr/lib/$PKG_MA/libetmemd_scan.so ./usr/share/doc/etmem-dev/examples/engine-hello/Makefile; do
	grep -q " $f\$" <<<"$c" || fail "etmem-dev lacks $f"
done
dpkg-deb -I "$PKG_DEB_DIR"/etmem-dev_*.deb | grep -q 'Depends:.*libetmemd-scan0 (= ' ||
	fail "etmem-dev does not depend on its exact libetmemd-scan0"
grep -q ' ./usr/lib/.*libetmemd_scan' <<<"$(contents "$PKG_DEB_DIR"/etmem_*.deb)" &&
	fail "the library is in the etmem package too"

# ---- the unit ----
unit=$x/lib/systemd/system/etmemd.service
# verify resolves ExecStart= on this machine: point it at the packaged binary.
mkdir "$PKG_TMP/unit"
sed "s|=/usr/bin/etmemd |=$x/usr/bin/etmemd |" "$unit" >"$PKG_TMP/unit/etmemd.service"
MANPATH=$x/usr/share/man systemd-analyze verify "$PKG_TMP/unit/etmemd.service" >"$PKG_TMP/verify.out" 2>&1 ||
	fail "systemd-analyze verify: $(cat "$PKG_TMP/verify.out")"
[ -s "$PKG_TMP/verify.out" ] && fail "systemd-analyze verify warns: $(cat "$PKG_TMP/verify.out")"
systemd-analyze security --offline=true --threshold=$MAX_EXPOSURE "$unit" >"$PKG_TMP/security.out" 2>&1
rc=$?
tail -1 "$PKG_TMP/security.out"
[ $rc = 0 ] || fail "exposure above $MAX_EXPOSURE/10: $(grep '✗' "$PKG_TMP/security.out")"
echo PASS
