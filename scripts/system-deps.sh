#!/usr/bin/env bash
# Install the Debian packages landkit's tests need, when missing. Called by `make test` and so
# by .ci/run. Needs root (or sudo); on a machine that has them all, it does nothing.
set -euo pipefail

# command that proves the package is there → Debian package
declare -A NEEDED=(
  [ogrinfo]=gdal-bin
  [chromium]=chromium    # the browser tests (tests/browser.py) drive /usr/bin/chromium headless
  [fc-list]=fontconfig
)

# file that proves the package is there → Debian package
declare -A NEEDED_FILES=(
  [/usr/bin/chromium]=chromium
  # QGIS's Python bindings (for Debian's /usr/bin/python3): tests/test_qgis_client.py opens the
  # run's GeoPackage and PostGIS tables headless, as the QGIS 3.22 of office desktops does (~100 MB)
  [/usr/lib/python3/dist-packages/qgis/core/__init__.py]=python3-qgis
  [/usr/lib/qgis/plugins/libprovider_postgres.so]=qgis-providers
)

# font family (as fc-list names it) → Debian package: Chinese text on the maps' screenshots
declare -A NEEDED_FONTS=(
  ["WenQuanYi Micro Hei"]=fonts-wqy-microhei
)

# glob that proves the package is there → Debian package: the PostgreSQL server and PostGIS the
# tests start on loopback (scripts/postgres.sh); `postgresql-postgis` is Debian's metapackage for
# the PostGIS of its default PostgreSQL (postgresql-15-postgis-3 on bookworm).
declare -A NEEDED_GLOBS=(
  ["/usr/lib/postgresql/*/bin/initdb"]=postgresql
  ["/usr/share/postgresql/*/extension/postgis.control"]=postgresql-postgis
)

missing=()
for pattern in "${!NEEDED_GLOBS[@]}"; do
  compgen -G "$pattern" >/dev/null || missing+=("${NEEDED_GLOBS[$pattern]}")
done
for cmd in "${!NEEDED[@]}"; do
  command -v "$cmd" >/dev/null 2>&1 || missing+=("${NEEDED[$cmd]}")
done
for file in "${!NEEDED_FILES[@]}"; do
  [ -e "$file" ] || missing+=("${NEEDED_FILES[$file]}")
done
for font in "${!NEEDED_FONTS[@]}"; do
  command -v fc-list >/dev/null 2>&1 && [ -n "$(fc-list "$font" family)" ] || missing+=("${NEEDED_FONTS[$font]}")
done
mapfile -t missing < <(printf '%s\n' "${missing[@]}" | sed '/^$/d' | sort -u)
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -eq 0 ]; then SUDO=""; elif command -v sudo >/dev/null 2>&1; then SUDO="sudo"; else
  echo "landkit tests need the Debian packages: ${missing[*]}; install them as root (apt-get install ${missing[*]})" >&2
  exit 1
fi
echo "Installing Debian packages: ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
