#!/usr/bin/env bash
# Installs what the WebGPU tests need on Debian 12 (bookworm): Mesa 25's lavapipe (a Vulkan driver
# on the CPU, from bookworm-backports; Dawn refuses bookworm's own Mesa 22) with the Vulkan loader,
# and Debian's chromium for the browser test. The backports source is derived from the machine's
# own /etc/apt/sources.list.d/debian.sources (its main stanza, with Suites: bookworm-backports),
# so no mirror is named here. Idempotent and quick when everything is already installed.
set -euo pipefail

want_mesa_major=25
src=/etc/apt/sources.list.d/debian.sources
backports=/etc/apt/sources.list.d/cm3leon-backports.sources
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"

mesa_ok() {
  local v
  v=$(dpkg-query -W -f='${Status} ${Version}' mesa-vulkan-drivers 2>/dev/null || true)
  [[ "$v" == "install ok installed "* ]] || return 1
  v=${v##* }
  [ "${v%%.*}" -ge "$want_mesa_major" ] 2>/dev/null || return 1
  dpkg-query -W -f='${Status}' libvulkan1 2>/dev/null | grep -q 'install ok installed'
}
chromium_ok() { command -v chromium >/dev/null 2>&1; }

if mesa_ok && chromium_ok; then
  echo "install-lavapipe: mesa-vulkan-drivers $(dpkg-query -W -f='${Version}' mesa-vulkan-drivers) and chromium already installed"
  exit 0
fi

if ! mesa_ok && [ ! -f "$backports" ]; then
  [ -f "$src" ] || { echo "install-lavapipe: $src not found (expected a Debian 12 machine)" >&2; exit 1; }
  # Copy the stanza whose Suites line is 'bookworm bookworm-updates', renaming its suite.
  stanza=$(awk -v RS= -v ORS='\n\n' '/\nSuites: *bookworm bookworm-updates *(\n|$)/' "$src")
  [ -n "$stanza" ] || { echo "install-lavapipe: no 'Suites: bookworm bookworm-updates' stanza in $src" >&2; exit 1; }
  printf '%s' "$stanza" | sed -E 's/^Suites:.*/Suites: bookworm-backports/' | grep -v '^#' | $SUDO tee "$backports" >/dev/null
  echo "install-lavapipe: wrote $backports"
fi

export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
if ! mesa_ok; then
  $SUDO apt-get install -y -qq -t bookworm-backports mesa-vulkan-drivers libvulkan1 >/dev/null
fi
if ! chromium_ok; then
  $SUDO apt-get install -y -qq --no-install-recommends chromium >/dev/null
fi
mesa_ok || { echo "install-lavapipe: mesa-vulkan-drivers >= $want_mesa_major did not install" >&2; exit 1; }
echo "install-lavapipe: mesa-vulkan-drivers $(dpkg-query -W -f='${Version}' mesa-vulkan-drivers), chromium $(chromium --version 2>/dev/null || echo '?')"
