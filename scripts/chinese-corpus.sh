#!/usr/bin/env bash
# The Chinese corpus of the search suite's Chinese parity test: Debian's fortunes-zh (Chinese fortune
# cookies: modern sayings and prose, Tang and Song poems; 5,670 entries, 2.2 MB of UTF-8), written by
# its Debian maintainers and the authors they quote, licensed GPL-3.0+
# (https://packages.debian.org/bookworm/fortunes-zh, source https://salsa.debian.org/chinese-team/fortunes-zh).
# Fetched with `apt-get download` at a pinned version (a 546 kB .deb) and unpacked with dpkg-deb, like
# scripts/sample-corpus.sh; cached, never committed. The package's copyright file is kept beside it.
#
# Usage: scripts/chinese-corpus.sh   prints the folder holding the fortune files chinese, tang300, song100
set -euo pipefail
CACHE="${SEARCH_BACKBONE_CACHE:-$HOME/.cache/search-backbone}/corpus"
PACKAGE=fortunes-zh
VERSION="${FORTUNES_ZH_VERSION:-2.98}"
dir="$CACHE/fortunes-zh"
if [ ! -f "$dir/.complete" ] || [ "$(cat "$dir/.complete")" != "$VERSION" ]; then
  command -v apt-get >/dev/null && command -v dpkg-deb >/dev/null ||
    { echo "chinese-corpus: apt-get and dpkg-deb are needed to fetch $PACKAGE (Debian or Ubuntu)" >&2; exit 1; }
  work=$(mktemp -d)
  trap 'rm -rf "$work"' EXIT
  # Pinned: another version would change the documents and so the figures the README quotes.
  (cd "$work" && apt-get download -q "$PACKAGE=$VERSION" >&2) ||
    { echo "chinese-corpus: apt-get download $PACKAGE=$VERSION failed (is the Debian mirror reachable, and does it carry $VERSION?)" >&2; exit 1; }
  dpkg-deb -x "$work/${PACKAGE}_${VERSION}_all.deb" "$work/x"
  src="$work/x/usr/share/games/fortunes"
  rm -rf "$dir" && mkdir -p "$dir"
  cp "$src/chinese" "$src/tang300" "$src/song100" "$work/x/usr/share/doc/$PACKAGE/copyright" "$dir/"
  echo "$VERSION" >"$dir/.complete"
fi
echo "$dir"
