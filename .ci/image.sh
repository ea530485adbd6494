#!/usr/bin/env bash
# The Dockerfile's steps without Docker: in a fresh directory, the build stage (npm ci, build,
# prune to production dependencies), then the runtime stage's layout started as the image starts
# it (NODE_ENV=production, `node src/main.js`; production needs a mail transport, which is only named here) on the image's Node major version. Passes when
# /healthz, /readyz and a new pool's discovery answer, and nothing from devDependencies (tsx,
# typescript) is needed at run time.
#   usage: .ci/image.sh [path to a node binary; default: the node on PATH]
set -euo pipefail
cd "$(dirname "$0")/.."
node_bin=${1:-$(command -v node)}
work=$(mktemp -d "${TMPDIR:-/tmp}/tarn-image-XXXXXX")
server=
cleanup() {
  [ -n "$server" ] && kill "$server" 2>/dev/null && wait "$server" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

# The repository as committed plus uncommitted changes, without ignored files (node_modules, dist).
mkdir "$work/repo"
git ls-files -z --cached --others --exclude-standard | xargs -0 -I{} sh -c '[ -e "{}" ] && printf "%s\0" "{}"' |
  tar --null -T - -cf - | tar -xf - -C "$work/repo"

# FROM node:22 AS build
mkdir "$work/build"
cp "$work/repo/package.json" "$work/repo/package-lock.json" "$work/build/"
(cd "$work/build" && npm ci --no-audit --no-fund)
cp -r "$work/repo/tsconfig.json" "$work/repo/tsconfig.build.json" "$work/repo/config" "$work/repo/src" "$work/build/"
(cd "$work/build" && npm run build && npm prune --omit=dev --no-audit --no-fund)
for dev in tsx typescript jest; do
  if [ -e "$work/build/node_modules/$dev" ]; then echo "devDependency $dev survived npm prune --omit=dev" >&2; exit 1; fi
done

# FROM node:22 (runtime)
mkdir -p "$work/app" "$work/data"
cp -r "$work/build/node_modules" "$work/app/"
cp -r "$work/build/dist/src" "$work/build/dist/config" "$work/app/"
cp -r "$work/repo/package.json" "$work/repo/migrations" "$work/repo/views" "$work/app/"

port=$("$node_bin" -e 'const s=require("net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})')
token=$(openssl rand -hex 20)
echo "starting the compiled layout on $("$node_bin" --version), port $port"
(cd "$work/app" && env -i PATH="$PATH" HOME="$work" NODE_ENV=production PORT="$port" DATA_DIR="$work/data" \
  PUBLIC_URL="http://127.0.0.1:$port" SMTP_URL="smtp://127.0.0.1:2525" TARN_ADMIN_TOKEN="$token" TARN_MASTER_KEY="$(openssl rand -hex 32)" \
  LOG_LEVEL=warn "$node_bin" src/main.js) &
server=$!

base="http://127.0.0.1:$port"
for _ in $(seq 1 120); do curl -fsS "$base/healthz" >/dev/null 2>&1 && break; kill -0 "$server" || exit 1; sleep 0.5; done
curl -fsS "$base/healthz" && echo
curl -fsS "$base/readyz" && echo
curl -fsS -X POST "$base/admin/pools" -H "Authorization: Bearer $token" -H 'Content-Type: application/json' \
  -d '{"id":"image-check","name":"Image check"}' >/dev/null
issuer=$(curl -fsS "$base/pools/image-check/.well-known/openid-configuration" | "$node_bin" -e \
  'let s="";process.stdin.on("data",(d)=>s+=d).on("end",()=>console.log(JSON.parse(s).issuer))')
[ "$issuer" = "$base/pools/image-check" ] || { echo "discovery names issuer $issuer" >&2; exit 1; }
echo "discovery: issuer $issuer"

kill "$server"
wait "$server" || { echo "the server did not stop cleanly on SIGTERM" >&2; exit 1; }
server=
echo "image layout OK"
