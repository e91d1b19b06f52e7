#!/usr/bin/env bash
# The sample corpus of the local stack and of the model benchmarks: the Python 3.11 library reference
# (its reStructuredText sources, about 300 documents, 7 MB), written by the Python documentation
# authors and licensed under the PSF License Agreement (https://docs.python.org/3/license.html).
# It comes from Debian's python3.11-doc package (https://packages.debian.org/bookworm/python3.11-doc),
# fetched with `apt-get download` (no root needed) and unpacked with dpkg-deb, so it is installed from
# a package registry like every other dependency. The package's copyright file is kept beside it.
#
# Usage: scripts/sample-corpus.sh [--limit N]   prints the corpus folder (cached; safe to run again)
set -euo pipefail
limit=0
[ "${1:-}" = "--limit" ] && limit=${2:?--limit needs a number}
CACHE="${SEARCH_BACKBONE_CACHE:-$HOME/.cache/search-backbone}/corpus"
PACKAGE=python3.11-doc
VERSION="${PYTHON_DOC_VERSION:-3.11.2-6+deb12u9}"
full="$CACHE/python-3.11-library"
if [ ! -f "$full/.complete" ] || [ "$(cat "$full/.complete")" != "$VERSION" ]; then
  command -v apt-get >/dev/null && command -v dpkg-deb >/dev/null ||
    { echo "sample-corpus: apt-get and dpkg-deb are needed to fetch $PACKAGE (Debian or Ubuntu); pass your own folder instead" >&2; exit 1; }
  work=$(mktemp -d)
  trap 'rm -rf "$work"' EXIT
  (cd "$work" && apt-get download -q "$PACKAGE=$VERSION" >&2) ||
    (cd "$work" && apt-get download -q "$PACKAGE" >&2) ||
    { echo "sample-corpus: apt-get download $PACKAGE failed (is the Debian mirror reachable?)" >&2; exit 1; }
  dpkg-deb -x "$work"/"$PACKAGE"_*.deb "$work/x"
  src="$work/x/usr/share/doc/python3.11/html/_sources/library"
  [ -d "$src" ] || { echo "sample-corpus: $PACKAGE has no $src" >&2; exit 1; }
  rm -rf "$full" && mkdir -p "$full"
  # The documents only: the .rst.txt sources are plain text that ingestion reads as .txt.
  cp "$src"/*.rst.txt "$full/"
  mkdir -p "$CACHE/licence"
  cp "$work/x/usr/share/doc/$PACKAGE/copyright" "$CACHE/licence/$PACKAGE.copyright"
  echo "$VERSION" >"$full/.complete"
fi
if [ "$limit" -gt 0 ]; then
  # A stable subset: the first N documents by name.
  subset="$CACHE/python-3.11-library-first-$limit"
  if [ ! -f "$subset/.complete" ]; then
    rm -rf "$subset" && mkdir -p "$subset"
    find "$full" -maxdepth 1 -name '*.rst.txt' | LC_ALL=C sort | head -n "$limit" | xargs -I{} cp {} "$subset/"
    echo "$VERSION" >"$subset/.complete"
  fi
  echo "$subset"
else
  echo "$full"
fi
