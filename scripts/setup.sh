#!/usr/bin/env bash
# One-time set-up of a fresh Debian bookworm machine (idempotent; fast when already done):
#  1. a Vulkan driver for Dawn: when no GPU driver is present, Mesa 25's lavapipe from
#     bookworm-backports (bookworm's own Mesa 22.3 is rejected by Dawn);
#  2. npm dependencies (npm ci) and the bundles (npm run build).
set -euo pipefail
cd "$(dirname "$0")/.."

have_vulkan_driver() {
  # Any installed ICD other than an old (pre-25) Mesa lavapipe counts.
  local icd
  for icd in /usr/share/vulkan/icd.d/*.json /etc/vulkan/icd.d/*.json; do
    [ -e "$icd" ] || continue
    case "$icd" in
      *lvp_icd*) dpkg-query -W -f='${Version}' mesa-vulkan-drivers 2>/dev/null | grep -qE '^(2[5-9]|[3-9][0-9])\.' && return 0 ;;
      *) return 0 ;;
    esac
  done
  return 1
}

if ! have_vulkan_driver; then
  echo "setup: installing Mesa 25 lavapipe (software Vulkan) from bookworm-backports"
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  src=/etc/apt/sources.list.d/debian.sources
  dst=/etc/apt/sources.list.d/bpt-backports.sources
  if [ -f "$src" ] && ! grep -rqs 'bookworm-backports' /etc/apt/sources.list /etc/apt/sources.list.d/; then
    # Derive the backports entry from the machine's own mirror rather than naming a host.
    awk 'BEGIN { RS = ""; ORS = "\n\n" } /Suites: bookworm bookworm-updates/' "$src" \
      | sed 's/^Suites: .*/Suites: bookworm-backports/' | $SUDO tee "$dst" >/dev/null
  fi
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq -t bookworm-backports mesa-vulkan-drivers >/dev/null
fi

if [ ! -d node_modules/webgpu ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund
fi
npm run build --silent
echo "setup: done"
