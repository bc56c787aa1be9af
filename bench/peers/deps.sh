#!/bin/sh
# deps.sh - the Debian packages `make compare` needs for its peers. Installs
# the missing ones when run as root (apt-get), otherwise says how to; a peer
# whose packages are missing is skipped by the comparison with a note.
pkgs="libxnnpack-dev libpthreadpool-dev libcpuinfo-dev python3-torch libopenblas0-pthread"
missing=""
for p in $pkgs; do
	dpkg-query -W -f '${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing="$missing $p"
done
[ -z "$missing" ] && exit 0
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
	echo "compare: installing$missing" >&2
	apt-get install -y $missing >/dev/null || { apt-get update >/dev/null && apt-get install -y $missing >/dev/null; } ||
		echo "compare: could not install$missing; those peers are skipped" >&2
else
	echo "compare: missing Debian packages:$missing; install them with: sudo apt-get install -y$missing (those peers are skipped)" >&2
fi
exit 0
