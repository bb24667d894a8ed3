#!/usr/bin/env bash
# SPDX-License-Identifier: MulanPSL-2.0
# Bad configuration files and plugins are refused with a reason naming what is
# wrong, and the daemon's state stays exactly as it was.
. "$(dirname "$0")/lib.sh"

install -m 0700 "$ETMEM_TEST_ENGINE" "$PLUGIN_DIR/test_engine.so"
start_daemon

base=$(write_conf base.yaml <<EOF
[project]
name=keep
loop=2
interval=1
sleep=1
EOF
)
check "baseline project added" "$ETMEM" obj add -f "$base" -s "$SOCK"
before=$(show)

# refuse NAME PATTERN FILE: add must fail, print PATTERN, and change nothing.
refuse() {
	local what=$1 pattern=$2 file=$3 err
	if err=$("$ETMEM" obj add -f "$file" -s "$SOCK" 2>&1); then
		bad "$what: accepted"
		return
	fi
	if ! grep -q -- "$pattern" <<<"$err"; then
		bad "$what: message '$err' lacks '$pattern'"
		return
	fi
	if [[ "$(show)" != "$before" ]]; then
		bad "$what: daemon state changed"
		return
	fi
	ok "$what: $err"
}

good=$(write_conf good.yaml <<EOF
[project]
name=p2
loop=1
interval=1
sleep=1
EOF
)
chmod 0644 "$good"
refuse "mode 0644" "0644" "$good"
chmod 0700 "$good"
refuse "mode 0700" "0700" "$good"
chmod 0600 "$good"
chown 65534:65534 "$good"
refuse "not owned by root" "owner\|owned" "$good"
chown 0:0 "$good"
# A symlink is resolved by the client; the file it points at is what is checked.
loose=$(write_conf loose.yaml <<EOF
[project]
name=p4
loop=1
interval=1
sleep=1
EOF
)
chmod 0644 "$loose"
ln -s "$loose" "$TMP/link.yaml"
refuse "symlink to a mode 0644 file" "loose.yaml: mode 0644" "$TMP/link.yaml"
mkdir -m 0700 "$TMP/dir.yaml"
refuse "directory" "regular" "$TMP/dir.yaml"
big=$(write_conf big.yaml </dev/null)
truncate -s $((10 * 1024 * 1024 + 1)) "$big"
refuse "larger than 10 MiB" "10 MiB\|too large\|size" "$big"
if "$ETMEM" obj add -f "$TMP/missing.yaml" -s "$SOCK" 2>"$TMP/err"; then
	bad "missing file accepted"
else
	ok "missing file refused: $(cat "$TMP/err")"
fi

bad=$(write_conf loop.yaml <<EOF
[project]
name=p3
loop=121
interval=1
sleep=1
EOF
)
refuse "loop out of range" "loop=121.*1..120" "$bad"
bad=$(write_conf noloop.yaml <<EOF
[project]
name=p3
interval=1
sleep=1
EOF
)
refuse "missing loop" "loop" "$bad"
bad=$(write_conf nosection.yaml <<EOF
[nothing]
a=b
EOF
)
refuse "no known section" "no \[project\]" "$bad"
bad=$(write_conf garbage.yaml <<EOF
this is not a key file
EOF
)
refuse "not a key file" "garbage.yaml" "$bad"

# All or nothing: a valid [project] with a bad [engine] adds neither.
bad=$(write_conf half.yaml <<EOF
[project]
name=half
loop=1
interval=1
sleep=1
[engine]
name=nosuchengine
project=half
EOF
)
refuse "bad engine in the same file" "nosuchengine" "$bad"

bad=$(write_conf task_noproj.yaml <<EOF
[task]
project=nosuch
engine=slide
name=t
type=pid
value=1
T=1
EOF
)
refuse "task for a missing project" "nosuch" "$bad"

# Plugin file checks: mode, and a missing ops symbol.
install -m 0644 "$ETMEM_TEST_ENGINE" "$PLUGIN_DIR/loose.so"
bad=$(write_conf plugin_mode.yaml <<EOF
[engine]
name=thirdparty
project=keep
eng_name=loose
libname=$PLUGIN_DIR/loose.so
ops_name=test_engine_ops
EOF
)
refuse "plugin with mode 0644" "0644" "$bad"
bad=$(write_conf plugin_sym.yaml <<EOF
[engine]
name=thirdparty
project=keep
eng_name=nosym
libname=$PLUGIN_DIR/test_engine.so
ops_name=no_such_ops
EOF
)
refuse "plugin without the ops symbol" "no_such_ops" "$bad"
bad=$(write_conf plugin_fill.yaml <<EOF
[engine]
name=thirdparty
project=keep
eng_name=failfill
libname=$PLUGIN_DIR/test_engine.so
ops_name=test_engine_ops
test_mode=fail_fill
EOF
)
refuse "plugin rejecting its keys" "failfill" "$bad"

# A start that fails leaves nothing running (all or nothing).
eng=$(write_conf eng.yaml <<EOF
[engine]
name=thirdparty
project=keep
eng_name=tester
libname=$PLUGIN_DIR/test_engine.so
ops_name=test_engine_ops
EOF
)
check "add engine" "$ETMEM" obj add -f "$eng" -s "$SOCK"
spawn_target etm-refusals
for t in ok fail; do
	f=$(write_conf "task_$t.yaml" <<EOF
[task]
project=keep
engine=tester
name=t_$t
type=pid
value=$TARGET_PID
test_start=$t
EOF
)
	check "add task t_$t" "$ETMEM" obj add -f "$f" -s "$SOCK"
done
if "$ETMEM" project start -n keep -s "$SOCK" 2>"$TMP/err"; then
	bad "start with a failing task succeeded"
else
	ok "failing start refused: $(cat "$TMP/err")"
fi
check "no task left running after a failed start" bash -c "! '$ETMEM' project show -n keep -s '$SOCK' | grep -q ' true '"

# cslide: a node paired with itself is refused as the engine is added.
proj=$(write_conf cs.yaml <<EOF
[project]
name=cs
loop=1
interval=1
sleep=1
[engine]
name=cslide
project=cs
node_pair=0,0
hot_threshold=1
node_mig_quota=1024
node_hot_reserve=1024
EOF
)
if "$ETMEM" obj add -f "$proj" -s "$SOCK" 2>"$TMP/err"; then
	bad "cslide node_pair 0,0 accepted"
else
	ok "cslide node_pair pairing a node with itself refused: $(cat "$TMP/err")"
fi

# cslide on a machine with one memory node: refused as it is added, naming what is missing, with or
# without node_pair (the kernel's tiers would pair the nodes).
if [ "$(ls -d /sys/devices/system/node/node[0-9]* | wc -l)" -eq 1 ]; then
	before=$(show)
	for pair in "node_pair=1,0" ""; do
		one=$(write_conf cs1.yaml <<EOF
[project]
name=cs1
scan_type=page
loop=1
interval=1
sleep=1
[engine]
name=cslide
project=cs1
$pair
hot_threshold=1
node_mig_quota=1024
node_hot_reserve=1024
EOF
)
		refuse "cslide on one node (${pair:-no node_pair})" "cslide needs a second NUMA node with memory" "$one"
	done
fi

# psi: a cg_dir that would leave the cgroup tree is refused naming the key.
psi=$(write_conf psi.yaml <<EOF
[project]
name=psiproj
scan_type=psi
interval=1
[engine]
name=psi
project=psiproj
[task]
project=psiproj
engine=psi
name=cg
cg_dir=etmem-x/../../etc
EOF
)
before=$(show) # the tasks added above
refuse "psi cg_dir with a .. component" 'cg_dir' "$psi"

check "daemon alive after every refusal" daemon_alive
check "SIGTERM exits 0" stop_daemon
finish
