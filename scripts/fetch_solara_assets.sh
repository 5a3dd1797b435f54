#!/usr/bin/env bash
# Fetch the JS/CSS that Solara's browser page loads from a CDN, from the npm registry instead,
# into a directory laid out the way Solara's asset proxy cache expects:
#     DEST/NAME@VER/<package files>      (e.g. DEST/requirejs@2.3.6/require.js)
# Point the server at it with SOLARA_ASSETS_PROXY_CACHE_DIR=DEST (absolute path).
#
# Usage: scripts/fetch_solara_assets.sh [DEST] [SPEC...]
#   DEST defaults to .solara-assets (relative to the repo root); SPECs default to the list below.
#   A SPEC's directory name is the SPEC itself, so a range such as vega@5 is fetched as the newest
#   5.x from npm and stored as DEST/vega@5, the exact path the page asks the proxy for.
# Idempotent: a package whose directory already exists is skipped. Atomic: each package is packed
# and unpacked in a temporary directory inside DEST and renamed into place, so an interrupted run
# never leaves a half-unpacked package behind that a later run would skip.
# See docs/ui-offline.md for where each version comes from (solara 1.64.1, ipyvue 1.x).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/.." && pwd)"
dest="${1:-$root/.solara-assets}"
shift || true

if [ "$#" -gt 0 ]; then
    specs=("$@")
else
    specs=(
        # page shell (solara.html.j2, vue2 / ipywidgets 8 variant)
        "@widgetti/solara-vuetify-app@10.1.1"
        "requirejs@2.3.6"
        "font-awesome@4.5.0"
        # solara.GridDraggable, used by Mesa's SolaraViz for its component grid
        "@widgetti/vue-grid-layout@2.3.13-alpha.2"
        # solara.Markdown (also Mesa's CommandConsole) loads mermaid and katex on mount
        "mermaid@10.8.0"
        "katex@0.16.9"
        # solara.FigureAltair (Mesa's backend="altair" plots) loads these major-version ranges
        "vega@5"
        "vega-lite@5"
        "vega-embed@6"
    )
fi

if ! command -v npm >/dev/null 2>&1; then
    echo "fetch_solara_assets: npm not found; install Node.js/npm (Debian: apt-get install npm)" >&2
    exit 1
fi

mkdir -p "$dest"
dest="$(cd "$dest" && pwd)"

fetched=0
for spec in "${specs[@]}"; do
    target="$dest/$spec"
    if [ -d "$target" ]; then
        continue
    fi
    mkdir -p "$(dirname "$target")"  # scoped packages: DEST/@widgetti/
    work="$(mktemp -d "$dest/.fetch.XXXXXX")"
    # shellcheck disable=SC2064
    trap "rm -rf '$work'" EXIT
    echo "fetch_solara_assets: $spec"
    (cd "$work" && npm pack --silent --loglevel=error "$spec" >/dev/null)
    tgz=("$work"/*.tgz)
    if [ "${#tgz[@]}" -ne 1 ] || [ ! -f "${tgz[0]}" ]; then
        echo "fetch_solara_assets: npm pack $spec produced no single tarball" >&2
        exit 1
    fi
    mkdir "$work/pkg"
    tar xzf "${tgz[0]}" --strip-components=1 -C "$work/pkg"
    # jsDelivr serves a minified copy of any .js file; solara.Markdown asks for require.min.js
    # when the page has no requirejs yet, and the npm package does not ship that file
    if [ "${spec%@*}" = "requirejs" ] && [ ! -e "$work/pkg/require.min.js" ]; then
        cp "$work/pkg/require.js" "$work/pkg/require.min.js"
    fi
    # the tarball's own name carries the resolved version (useful for ranges like vega@5)
    basename "${tgz[0]}" >"$work/pkg/.npm-tarball"
    mv -T "$work/pkg" "$target"
    rm -rf "$work"
    trap - EXIT
    fetched=$((fetched + 1))
done

echo "fetch_solara_assets: $fetched fetched, ${#specs[@]} wanted, in $dest"
