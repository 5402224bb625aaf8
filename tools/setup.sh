#!/usr/bin/env bash
# Installs every Debian package that wsc's build, tests, benchmarks and interop peers need.
# Idempotent: installs only what is missing, waiting up to 5 minutes for the dpkg lock.
set -euo pipefail

packages=(
  build-essential cmake pkg-config git
  libuv1-dev libssl-dev zlib1g-dev node-llhttp   # libwsc's dependencies (llhttp as C sources)
  googletest libgtest-dev libbenchmark-dev       # C++ tests and benchmarks
  python3 python3-pytest python3-websockets      # Python binding tests; python-websockets peer
  python3-pip python3-setuptools python3-wheel   # pip install of the Python binding (tested offline)
  python3-websocket                              # websocket-client: the blocking API's benchmark peer
  binutils                                       # nm, for the exported-symbols check
  clang libclang-rt-14-dev valgrind              # libFuzzer (tests/fuzz); memcheck (tools/valgrind.sh)
  openssl ca-certificates                        # test certificates (tests/tls/make_certs.sh); the system CA store
  libwebsockets-dev libboost-dev                 # benchmark peers (bench/servers)
)
# Node and npm (the Node binding and the `ws` peer): Debian's, unless a Node is installed already.
command -v node >/dev/null 2>&1 || packages+=(nodejs libnode-dev)   # libnode-dev: N-API headers
command -v npm >/dev/null 2>&1 || packages+=(npm)

missing=()
for p in "${packages[@]}"; do
  status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
  [[ "$status" == "install ok installed" ]] || missing+=("$p")
done

if ((${#missing[@]})); then
  echo "setup: installing ${missing[*]}"
  sudo=""
  [[ $(id -u) -eq 0 ]] || sudo="sudo"
  export DEBIAN_FRONTEND=noninteractive
  $sudo apt-get update -q -o DPkg::Lock::Timeout=300
  $sudo apt-get install -y -q --no-install-recommends -o DPkg::Lock::Timeout=300 "${missing[@]}"
else
  echo "setup: all ${#packages[@]} packages present"
fi

# npm's `ws`, the Node interop peer, in a cache folder outside the repository.
peer_dir=${WSC_NPM_CACHE:-$HOME/.cache/wsc/npm}
if [[ ! -f "$peer_dir/node_modules/ws/package.json" ]]; then
  echo "setup: installing ws@8 into $peer_dir"
  mkdir -p "$peer_dir"
  npm install --silent --no-audit --no-fund --prefix "$peer_dir" ws@8 >/dev/null
fi
