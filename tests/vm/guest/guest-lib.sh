# Helpers for guest test scripts (busybox ash). Source: . /rig/guest-lib.sh
