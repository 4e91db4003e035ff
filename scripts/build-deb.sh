#!/usr/bin/env bash
# Builds the Debian package from the committed tree (a copy in a temporary directory, so
# the worktree and its parent stay clean): prints the .deb's path. Needs debhelper
# (scripts/install-deps.sh installs it).
set -euo pipefail
cd "$(dirname "$0")/.."
version=$(dpkg-parsechangelog -S Version)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
git archive --prefix="cccd-$version/" HEAD | tar -x -C "$work"
(cd "$work/cccd-$version" && dpkg-buildpackage -us -uc -b >"$work/build.log" 2>&1) || {
	tail -n 40 "$work/build.log"; exit 1; }
out=${OUT:-build/deb}
mkdir -p "$out"
cp "$work"/*.deb "$out"/
ls "$out"/cccd_"$version"_*.deb
