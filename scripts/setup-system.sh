#!/usr/bin/env bash
# Installs the system packages pipe needs, and nothing when they are all present.
#
#   bash scripts/setup-system.sh [--dry-run] [--with-test-deps]
#
#   --dry-run         print what is missing and the command that would install it; change nothing
#   --with-test-deps  also what only tests need: Chromium (the headless HTML-report test),
#                     NumPy (python3-numpy: the test that NumPy loads pipe's .npz weights),
#                     PyTorch (python3-torch: the ActMix-in-PyTorch Python stage example) and
#                     tmux (the real terminal the live-display test draws in)
#
# What and why (the one list; .ci/run calls this script too, so CI installs exactly this):
#   libopenblas-dev    OpenBLAS headers + library: `npm ci` compiles the native `blas` training
#                      backend against it (without it training falls back to wasm, ~10x slower)
#   gcc, libc6-dev     the C compiler and libc headers for that build
#   libxgboost0        the real XGBoost library, called by the `xgboost` stage kind
#   fonts-dejavu-core  fonts for plot text (resvg draws no text without a font file)
#   chromium           (--with-test-deps) the headless browser of the report test
#   python3-numpy      (--with-test-deps) NumPy for the .npz interop test and the Python stage tests
#   python3-torch      (--with-test-deps) PyTorch 1.13 (≈ 47 MB) for pipelines/actmix_torch.yaml and its test
#   tmux               (--with-test-deps) a real terminal for the live-display test
#
# On Debian/Ubuntu it uses apt-get (through sudo when not root, and says so). Elsewhere it prints
# the Homebrew / dnf equivalents and exits 0; `npx pipe doctor` then tells what is still missing.
#
# Environment (for tests): PIPE_OS_RELEASE (default /etc/os-release).
set -euo pipefail

dry_run=0
test_deps=0
for a in "$@"; do
  case "$a" in
    --dry-run) dry_run=1 ;;
    --with-test-deps) test_deps=1 ;;
    -h|--help) sed -n '2,21p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "setup-system: unknown option '$a' (try --help)" >&2; exit 2 ;;
  esac
done

packages=(libopenblas-dev gcc libc6-dev libxgboost0 fonts-dejavu-core)
[ "$test_deps" = 1 ] && packages+=(chromium python3-numpy python3-torch tmux)

os_release="${PIPE_OS_RELEASE:-/etc/os-release}"
os_id=""
os_like=""
if [ -r "$os_release" ]; then
  os_id="$(. "$os_release" && echo "${ID:-}")"
  os_like="$(. "$os_release" && echo "${ID_LIKE:-}")"
fi
is_debian=0
case " $os_id $os_like " in *" debian "*|*" ubuntu "*) is_debian=1 ;; esac
if [ "$is_debian" = 1 ] && ! command -v apt-get >/dev/null 2>&1; then is_debian=0; fi
if [ "$is_debian" = 1 ] && ! command -v dpkg >/dev/null 2>&1; then is_debian=0; fi

if [ "$is_debian" = 0 ]; then
  echo "setup-system: not a Debian/Ubuntu system (${os_id:-unknown}); install the equivalents yourself:"
  if [ "$(uname -s)" = Darwin ]; then
    echo "  brew install openblas xgboost && brew install --cask font-dejavu"
    echo "  (the C compiler comes with the Xcode command-line tools: xcode-select --install)"
  else
    echo "  Fedora/RHEL: sudo dnf install openblas-devel gcc glibc-devel dejavu-sans-fonts"
    echo "               XGBoost: pip install xgboost, then export PIPE_LIBXGBOOST=<site-packages>/xgboost/lib/libxgboost.so"
    echo "  Arch:        sudo pacman -S openblas gcc ttf-dejavu xgboost"
  fi
  [ "$test_deps" = 1 ] && echo "  and Chromium, NumPy and PyTorch for the tests"
  echo "  then: npm ci && npx pipe doctor"
  exit 0
fi

missing=()
for p in "${packages[@]}"; do
  if ! dpkg -s "$p" 2>/dev/null | grep -q '^Status: install ok installed'; then missing+=("$p"); fi
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "setup-system: all system packages present (${packages[*]})"
  exit 0
fi

sudo=()
if [ "$(id -u)" != 0 ]; then
  if command -v sudo >/dev/null 2>&1; then sudo=(sudo); else
    echo "setup-system: missing ${missing[*]}, and this is not root and there is no sudo; as root run:" >&2
    echo "  apt-get update && apt-get install -y --no-install-recommends ${missing[*]}" >&2
    exit 1
  fi
fi
cmd_update=("${sudo[@]}" apt-get update -qq)
cmd_install=("${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}")

if [ "$dry_run" = 1 ]; then
  echo "setup-system: missing: ${missing[*]}"
  echo "setup-system: would run: ${cmd_update[*]} && ${cmd_install[*]}"
  exit 0
fi

echo "setup-system: installing ${missing[*]}"
[ ${#sudo[@]} -gt 0 ] && echo "setup-system: not root, so apt-get runs through sudo (it may ask for your password)"
"${cmd_update[@]}"
"${cmd_install[@]}"
echo "setup-system: done"
