#!/usr/bin/env bash
# Container smoke test (`npm run test:container`): proves on this machine, with podman and no registry, that
# the UNCHANGED Dockerfile builds a small non-root image that starts healthy, does its job and stops
# gracefully.
#
#  1. base image: scripts/container/make-base-image.sh (skipped when localhost/node-base:20 exists)
#  2. podman build --build-arg BASE_IMAGE=localhost/node-base:20 (build time, image size)
#  3. static checks: image contents, compose file, compose-style .env accepted by the app's config
#  4. the embedded database (FerretDB) and a fake Graph API on the host; the image with --network=host
#     against them, hardened like docker-compose.yml (read-only root, no capabilities)
#  5. /healthz, /readyz, the image's HEALTHCHECK, uid != 0, PID 1 is node, a signed webhook → reply round trip
#  6. podman stop (SIGTERM): exit code 0 within 10 s
# Every check is reported PASS/FAIL separately; exit 1 if any fails. Containers, processes and temp files are
# cleaned up in every case. Logs are kept in artifacts/container-smoke/.
#
# Environment: NODE_BASE_IMAGE (default localhost/node-base:20), SMOKE_IMAGE (default
# localhost/privacybot:smoke), SMOKE_NO_CACHE=1 to build without the layer cache (cold build time).
set -uo pipefail # not -e: a failed check is recorded and the run goes on to report all of them

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$ROOT"
BASE_IMAGE="${NODE_BASE_IMAGE:-localhost/node-base:20}"
IMAGE="${SMOKE_IMAGE:-localhost/privacybot:smoke}"
FIXTURES="$ROOT/../shared/fixtures/whatsapp/wire"
FIXTURE="inbound_text_stop.wire.json"
PHONE_NUMBER_ID=200000000000002
SUBSCRIBER=15550002222
ART="$ROOT/artifacts/container-smoke"
WORK="$(mktemp -d /tmp/container-smoke.XXXXXX)"
CONTAINER="privacybot-smoke-$$"
mkdir -p "$ART" && rm -f "$ART"/*

say() { printf '\n== %s\n' "$*"; }
# Milliseconds on a monotonic clock (/proc/uptime, 10 ms steps), not `date`: this machine's wall clock can be
# stepped during a run (once a 20 s wait ended after 2 s), and so can bash's $SECONDS.
now_ms() { local up; read -r up _ </proc/uptime; echo $((10#${up/./}0)); }
secs() { printf '%d.%03d s' $(($1 / 1000)) $(($1 % 1000)); } # milliseconds → "12.345 s"

# --- checks ----------------------------------------------------------------------------------------
CHECKS=() # "PASS|name|detail" / "FAIL|name|detail", in the order they ran
pass() { CHECKS+=("PASS|$1|${2:-}"); printf '  PASS  %s%s\n' "$1" "${2:+ ($2)}"; }
fail() { CHECKS+=("FAIL|$1|${2:-}"); printf '  FAIL  %s%s\n' "$1" "${2:+ ($2)}"; }
# check NAME DETAIL-ON-FAIL COMMAND...: PASS when the command succeeds.
check() { local name="$1" detail="$2"; shift 2; if "$@"; then pass "$name"; else fail "$name" "$detail"; fi; }

FIGURES=() # "label|value" for the summary
figure() { FIGURES+=("$1|$2"); }

# --- podman ----------------------------------------------------------------------------------------
# Debian bookworm's crun refuses hosts with hybrid cgroups (v1 controllers plus a v2 mount), which is what
# this machine has; runc runs there. Every podman call goes through pm so the choice is made once.
PODMAN_GLOBAL=()
pm() { podman "${PODMAN_GLOBAL[@]}" "$@"; }
# podman asks for rlimits above this machine's hard limits (nofile 1048576 > 20000) and the container then
# fails to start ("error setting rlimits"); ask for values within them, for builds and runs alike.
ULIMITS=(--ulimit nofile=1024:1024 --ulimit nproc=1024:1024)

ensure_tools() {
  local missing=()
  command -v podman >/dev/null || missing+=(podman uidmap fuse-overlayfs slirp4netns)
  command -v debootstrap >/dev/null || missing+=(debootstrap)
  command -v runc >/dev/null || missing+=(runc)
  command -v curl >/dev/null || missing+=(curl)
  if ((${#missing[@]})); then
    [[ $(id -u) -eq 0 ]] || { echo "smoke: missing ${missing[*]} and not root to apt-get them" >&2; return 1; }
    echo "smoke: installing ${missing[*]} from Debian"
    DEBIAN_FRONTEND=noninteractive apt-get update -qq &&
      DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null || return 1
  fi
  command -v runc >/dev/null && PODMAN_GLOBAL=(--runtime runc)
  return 0
}

# --- cleanup: whatever happened, leave no container, process or temp folder behind --------------------
DB_PID="" GRAPH_PID=""
stop_pid() { # stop_pid PID: SIGTERM, up to 10 s, then SIGKILL
  local pid="$1"
  [[ -n "$pid" ]] && kill -0 "$pid" 2>/dev/null || return 0
  kill -TERM "$pid" 2>/dev/null
  for _ in $(seq 1 40); do kill -0 "$pid" 2>/dev/null || return 0; sleep 0.25; done
  kill -KILL "$pid" 2>/dev/null
}
# The summary: figures, then every check with PASS/FAIL; also written to artifacts/container-smoke/summary.txt.
FAILED=0
summary() {
  say "summary"
  local c status name detail
  for c in "${CHECKS[@]}"; do [[ "${c%%|*}" == FAIL ]] && FAILED=$((FAILED + 1)); done
  {
    echo "machine: $(nproc) cores (nproc), $(free -g | awk '/^Mem:/ {print $2}') GiB RAM (free -g), $(. /etc/os-release && echo "$PRETTY_NAME"), podman $(podman --version | awk '{print $3}')"
    for c in "${FIGURES[@]}"; do printf '  %-34s %s\n' "${c%%|*}" "${c#*|}"; done
    for c in "${CHECKS[@]}"; do
      IFS='|' read -r status name detail <<<"$c"
      printf '  %-4s  %s%s\n' "$status" "$name" "${detail:+ — $detail}"
    done
    echo "$((${#CHECKS[@]} - FAILED)) passed, $FAILED failed"
  } | tee "$ART/summary.txt"
}

cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  summary
  # Any failed check fails the run; so does an early stop (rc != 0) with nothing recorded as failed.
  ((FAILED > 0 && rc == 0)) && rc=1
  if pm container exists "$CONTAINER" 2>/dev/null; then
    pm logs "$CONTAINER" >"$ART/app.log" 2>&1
    pm rm -f -t 0 "$CONTAINER" >/dev/null 2>&1
  fi
  stop_pid "$GRAPH_PID"
  stop_pid "$DB_PID" # dbMain stops its FerretDB on SIGTERM (and FerretDB's wrapper follows its owner anyway)
  cp -f "$WORK"/*.log "$ART"/ 2>/dev/null
  rm -rf "$WORK"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

free_port() { node -e 'const s=require("net").createServer();s.listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})'; }
# wait_for_line FILE PATTERN TIMEOUT_S PID: the first line of FILE matching PATTERN, while PID lives.
wait_for_line() {
  local file="$1" pattern="$2" deadline=$(($(now_ms) + $3 * 1000)) pid="$4" line
  while (($(now_ms) < deadline)); do
    line="$(grep -m1 -E "$pattern" "$file" 2>/dev/null)" && { echo "$line"; return 0; }
    kill -0 "$pid" 2>/dev/null || return 1
    sleep 0.2
  done
  return 1
}
http_code() { curl -s -o /dev/null -m 5 -w '%{http_code}' "$@"; }

# =====================================================================================================
say "tools"
if ! ensure_tools; then
  fail "tools (podman, runc, debootstrap)" "could not install them"
  exit 1
fi
echo "podman $(podman --version | awk '{print $3}'), runtime ${PODMAN_GLOBAL[1]:-default}"

say "base image $BASE_IMAGE"
t=$(now_ms)
if pm image exists "$BASE_IMAGE"; then
  echo "present: reused"
  figure "base image" "reused (cached)"
  pass "base image available"
elif NODE_BASE_IMAGE="$BASE_IMAGE" bash scripts/container/make-base-image.sh; then
  figure "base image" "created in $(secs $(($(now_ms) - t)))"
  pass "base image available" "created"
else
  fail "base image available" "make-base-image.sh failed"
  exit 1
fi

say "build $IMAGE (unchanged Dockerfile, BASE_IMAGE=$BASE_IMAGE)"
# --format docker: the OCI image format has no HEALTHCHECK field, so podman would drop it.
old_id="$(pm image inspect --format '{{.Id}}' "$IMAGE" 2>/dev/null || true)"
cache_flag=()
[[ "${SMOKE_NO_CACHE:-}" == 1 ]] && cache_flag=(--no-cache)
t=$(now_ms)
if pm build --format docker "${ULIMITS[@]}" "${cache_flag[@]}" --build-arg "BASE_IMAGE=$BASE_IMAGE" \
  -t "$IMAGE" -f Dockerfile . >"$WORK/build.log" 2>&1; then
  build_ms=$(($(now_ms) - t))
  size=$(pm image inspect --format '{{.Size}}' "$IMAGE")
  cached=$(grep -c 'Using cache' "$WORK/build.log")
  figure "build time" "$(secs "$build_ms")$( ((cached > 0)) && echo " ($cached steps from the layer cache)")"
  figure "image size" "$(awk -v b="$size" 'BEGIN{printf "%.1f MB", b/1e6}') (base $(pm image inspect --format '{{.Size}}' "$BASE_IMAGE" | awk '{printf "%.1f MB", $1/1e6}'))"
  pass "image builds" "$(secs "$build_ms")"
  # A rebuild leaves the previous image untagged: remove it (only that one) so runs don't pile up.
  new_id="$(pm image inspect --format '{{.Id}}' "$IMAGE")"
  if [[ -n "$old_id" && "$old_id" != "$new_id" && -z "$(pm image inspect --format '{{join .RepoTags ""}}' "$old_id" 2>/dev/null)" ]]; then
    pm rmi "$old_id" >/dev/null 2>&1 || true
  fi
else
  tail -n 40 "$WORK/build.log"
  fail "image builds" "see artifacts/container-smoke/build.log"
  exit 1
fi

say "image contents and configuration"
# What must be there, and what must not (sources, tests, secrets, dev tools, the embedded database).
listing="$(pm run --rm --no-healthcheck "${ULIMITS[@]}" --entrypoint ls "$IMAGE" -A /app)"
echo "/app: $(echo $listing)"
required_ok=1
for f in dist node_modules package.json locales; do grep -qx "$f" <<<"$listing" || required_ok=0; done
pm run --rm --no-healthcheck "${ULIMITS[@]}" --entrypoint test "$IMAGE" -f /app/dist/main.js || required_ok=0
check "image has dist/, production node_modules, package.json, locales/" "missing some of them" test $required_ok = 1
forbidden="$(pm run --rm --no-healthcheck "${ULIMITS[@]}" --entrypoint sh "$IMAGE" -c '
  cd /app
  for p in src test bench .env .env.example .tools data scripts tsconfig.json Dockerfile .git; do [ -e "$p" ] && echo "$p"; done
  find . -path ./node_modules -prune -o \( -name "*.ts" -o -name "*.map" -o -name ".env*" \) -print | head -n 5
  true')"
check "image has no src/, test/, .env, TypeScript sources or source maps" "found: $(echo $forbidden)" test -z "$forbidden"
# Dev dependencies: every package folder in the image, looked up in package-lock.json, which marks the dev
# ones ("dev", or "devOptional" for packages only an optional peer and the dev tools want).
pm run --rm --no-healthcheck "${ULIMITS[@]}" --entrypoint node "$IMAGE" -e '
  const fs = require("fs");
  const walk = (dir) => fs.readdirSync(dir, { withFileTypes: true }).filter((e) => e.isDirectory() && !e.name.startsWith("."))
    .flatMap((e) => (e.name.startsWith("@") ? fs.readdirSync(`${dir}/${e.name}`).map((n) => `${dir}/${e.name}/${n}`) : [`${dir}/${e.name}`]))
    .flatMap((p) => [p, ...(fs.existsSync(`${p}/node_modules`) ? walk(`${p}/node_modules`) : [])]);
  process.chdir("/app");
  console.log(walk("node_modules").join("\n"));' >"$WORK/image-packages.txt" 2>&1
dev_in_image="$(node -e '
  const lock = require(process.argv[1]).packages;
  const seen = require("fs").readFileSync(process.argv[2], "utf8").split("\n").filter(Boolean);
  const dev = seen.filter((p) => lock[p] && (lock[p].dev || lock[p].devOptional));
  const unknown = seen.filter((p) => !lock[p]);
  console.log([...dev, ...unknown.map((p) => `${p} (not in the lockfile)`)].slice(0, 8).join(" "));' \
  "$ROOT/package-lock.json" "$WORK/image-packages.txt")"
check "image has no dev dependencies ($(wc -l <"$WORK/image-packages.txt") packages, per package-lock.json)" "found: $dev_in_image" test -z "$dev_in_image"
user="$(pm image inspect --format '{{.Config.User}}' "$IMAGE")"
check "image's default user is not root" "USER is '${user:-unset}'" test -n "$user" -a "${user%%:*}" != 0 -a "${user%%:*}" != root
entry="$(pm image inspect --format '{{json .Config.Entrypoint}} {{json .Config.Cmd}}' "$IMAGE")"
check "entrypoint runs node directly (no npm, no shell)" "entrypoint/cmd: $entry" grep -q '^\["node","dist/main.js"\]' <<<"$entry"
hc="$(pm image inspect --format '{{json .HealthCheck}}' "$IMAGE")"
check "image has a HEALTHCHECK on /healthz" "healthcheck: $hc" grep -q '/healthz' <<<"$hc"

say "compose"
check "docker-compose.yml is valid (YAML, structure)" "see above" node scripts/container/check-compose.mjs
# docker compose passes .env (made from .env.example) with env_file: every `KEY=` line arrives as an empty
# variable. The app's config must accept that file once the secrets are filled in.
{
  while IFS= read -r line; do
    case "$line" in
      WHATSAPP_APP_SECRET=*) echo "WHATSAPP_APP_SECRET=test_app_secret_not_real" ;;
      WHATSAPP_VERIFY_TOKEN=*) echo "WHATSAPP_VERIFY_TOKEN=smoke-verify-token" ;;
      WHATSAPP_ACCESS_TOKEN=*) echo "WHATSAPP_ACCESS_TOKEN=smoke-access-token-not-real" ;;
      WHATSAPP_PHONE_NUMBER_ID=*) echo "WHATSAPP_PHONE_NUMBER_ID=$PHONE_NUMBER_ID" ;;
      PII_ENCRYPTION_KEYS=*) echo "PII_ENCRYPTION_KEYS=k1:$(node -p 'require("crypto").randomBytes(32).toString("base64")')" ;;
      PII_HMAC_KEY=*) echo "PII_HMAC_KEY=$(node -p 'require("crypto").randomBytes(32).toString("base64")')" ;;
      METRICS_TOKEN=*) echo "METRICS_TOKEN=smoke-metrics-token" ;;
      *) echo "$line" ;;
    esac
  done <.env.example
} >"$WORK/compose.env"
# The environment: block of docker-compose.yml's app service wins over the file, as in compose.
if pm run --rm --no-healthcheck "${ULIMITS[@]}" --network=none --env-file "$WORK/compose.env" \
  -e NODE_ENV=production -e PORT=3000 -e HOST=0.0.0.0 -e 'MONGODB_URI=mongodb://mongo:27017/privacybot?replicaSet=rs0' \
  --entrypoint node "$IMAGE" -e 'require("/app/dist/config").loadConfig()' >"$WORK/compose-env.log" 2>&1; then
  pass "config accepts a compose .env made from .env.example"
else
  fail "config accepts a compose .env made from .env.example" "$(grep -m1 -o 'invalid configuration.*' "$WORK/compose-env.log" | cut -c1-300)"
fi

say "embedded database and fake Graph API on the host"
[[ -f dist/db/dbMain.js ]] || npm run build >"$WORK/host-build.log" 2>&1
DB_PORT=$(free_port)
# NODE_ENV unset: the embedded server is a development tool and refuses nothing here.
env -u NODE_ENV EMBEDDED_DB_PORT="$DB_PORT" EMBEDDED_DB_DIR="$WORK/db" DATA_DIR="$WORK/data" \
  node dist/db/dbMain.js >"$WORK/db.out" 2>"$WORK/db.log" &
DB_PID=$!
# 180 s: on a fresh machine FerretDB is built first (about 70 s on 2 cores).
if uri_line="$(wait_for_line "$WORK/db.out" '^MONGODB_URI=' 180 "$DB_PID")"; then
  MONGODB_URI="${uri_line#MONGODB_URI=}"
  echo "database: $MONGODB_URI"
else
  tail -n 20 "$WORK/db.log"
  fail "embedded database starts" "no MONGODB_URI line; see db.log"
  exit 1
fi
node scripts/container/fake-graph.mjs "$WORK/graph-requests.log" >"$WORK/graph.out" 2>"$WORK/graph.log" &
GRAPH_PID=$!
if graph_line="$(wait_for_line "$WORK/graph.out" '^FAKE_GRAPH_URL=' 10 "$GRAPH_PID")"; then
  GRAPH_URL="${graph_line#FAKE_GRAPH_URL=}"
  echo "fake Graph API: $GRAPH_URL"
else
  fail "fake Graph API starts" "see graph.log"
  exit 1
fi

say "run the image"
APP_PORT=$(free_port)
BASE="http://127.0.0.1:$APP_PORT"
# --network=host: the container reaches the database and the fake Graph API on the host's loopback.
# HOST=127.0.0.1 keeps the app off the host's other interfaces. Hardened as in docker-compose.yml:
# read-only root filesystem, no capabilities, no privilege escalation.
# --health-interval=disable: podman schedules periodic healthchecks with systemd timers, and there is no
# systemd here; the HEALTHCHECK is run once explicitly below instead.
# UTILITY_TEMPLATE_NAME: the fixture's message is dated 2026-09-21, so on any later clock the person's 24 h
# customer-service window is closed and a free-form reply is refused (Meta error 131047); with a utility
# template configured the bot answers with the template instead, which is what the round trip looks for.
t_start=$(now_ms)
if ! pm run -d --name "$CONTAINER" --network=host "${ULIMITS[@]}" \
  --read-only --tmpfs /tmp --cap-drop=ALL --security-opt=no-new-privileges --health-interval=disable \
  -e NODE_ENV=production -e PORT="$APP_PORT" -e HOST=127.0.0.1 -e LOG_LEVEL=info \
  -e MONGODB_URI="$MONGODB_URI" \
  -e WHATSAPP_APP_SECRET=test_app_secret_not_real \
  -e WHATSAPP_VERIFY_TOKEN=smoke-verify-token \
  -e WHATSAPP_ACCESS_TOKEN=smoke-access-token-not-real \
  -e WHATSAPP_PHONE_NUMBER_ID="$PHONE_NUMBER_ID" \
  -e PII_ENCRYPTION_KEYS="k1:$(node -p 'require("crypto").randomBytes(32).toString("base64")')" \
  -e PII_HMAC_KEY="$(node -p 'require("crypto").randomBytes(32).toString("base64")')" \
  -e METRICS_TOKEN=smoke-metrics-token \
  -e GRAPH_API_BASE_URL="$GRAPH_URL" \
  -e UTILITY_TEMPLATE_NAME=smoke_utility_template \
  "$IMAGE" >/dev/null 2>"$WORK/run.log"; then
  cat "$WORK/run.log"
  fail "container starts" "podman run failed"
  exit 1
fi

# Poll until /healthz and then /readyz answer 200 (60 s at most), or the container dies.
healthy_ms="" ready_ms=""
deadline=$((t_start + 60000))
while (($(now_ms) < deadline)) && [[ -z "$ready_ms" ]]; do
  [[ "$(pm inspect --format '{{.State.Running}}' "$CONTAINER" 2>/dev/null)" == true ]] || break
  [[ -z "$healthy_ms" && "$(http_code "$BASE/healthz")" == 200 ]] && healthy_ms=$(($(now_ms) - t_start))
  [[ -n "$healthy_ms" && "$(http_code "$BASE/readyz")" == 200 ]] && ready_ms=$(($(now_ms) - t_start))
  [[ -z "$ready_ms" ]] && sleep 0.1
done
if [[ -n "$healthy_ms" ]]; then pass "GET /healthz 200" "$(secs "$healthy_ms") after podman run"; else fail "GET /healthz 200" "not within 60 s"; fi
if [[ -n "$ready_ms" ]]; then pass "GET /readyz 200" "$(secs "$ready_ms") after podman run"; else fail "GET /readyz 200" "not within 60 s"; fi
figure "start to healthy (/healthz 200)" "$([[ -n "$healthy_ms" ]] && secs "$healthy_ms" || echo never)"
figure "start to ready (/readyz 200)" "$([[ -n "$ready_ms" ]] && secs "$ready_ms" || echo never)"
if [[ -z "$ready_ms" ]]; then
  echo "--- container log:"; pm logs "$CONTAINER" 2>&1 | tail -n 30
fi

check "image HEALTHCHECK passes (podman healthcheck run)" "unhealthy" pm healthcheck run "$CONTAINER"
uid="$(pm exec "$CONTAINER" id -u 2>/dev/null)"
check "app process runs as non-root (uid ${uid:-?})" "uid is '${uid:-unknown}'" test -n "$uid" -a "$uid" != 0
pid1="$(pm exec "$CONTAINER" cat /proc/1/cmdline 2>/dev/null | tr '\0' ' ')"
check "PID 1 is node itself (receives SIGTERM)" "PID 1 is '${pid1:-unknown}'" grep -q '^node dist/main.js' <<<"$pid1"

say "signed webhook round trip"
# Meta's wire bytes, byte for byte, with the signature Meta would send (dummy app secret).
sig="$(awk -F'\t' -v f="$FIXTURE" '$1 == f { print $2 }' "$FIXTURES/SIGNATURES.tsv" 2>/dev/null)"
if [[ ! -f "$FIXTURES/$FIXTURE" || -z "$sig" ]]; then
  fail "POST /webhook (signed) 200" "fixture or signature missing under ../shared/fixtures/whatsapp/wire"
  fail "reply reaches the Graph API" "not tried"
else
  t_hook=$(now_ms)
  code="$(curl -s -o "$WORK/webhook-response.txt" -m 10 -w '%{http_code}' -X POST "$BASE/webhook" \
    -H 'Content-Type: application/json' -H "X-Hub-Signature-256: $sig" --data-binary "@$FIXTURES/$FIXTURE")"
  check "POST /webhook (signed) 200" "HTTP ${code:-no answer}" test "$code" = 200
  # The inbox and outbox workers run asynchronously: wait up to 20 s for the reply to reach the fake Graph API.
  want="/v24.0/$PHONE_NUMBER_ID/messages"
  got=""
  while (($(now_ms) - t_hook < 20000)); do
    if node -e '
      const [file, path, who] = process.argv.slice(1);
      const hit = require("fs").readFileSync(file, "utf8").split("\n").filter(Boolean).map((l) => JSON.parse(l))
        .some((r) => r.method === "POST" && r.path === path && typeof r.body?.to === "string" && r.body.to.endsWith(who));
      process.exit(hit ? 0 : 1);' "$WORK/graph-requests.log" "$want" "$SUBSCRIBER" 2>/dev/null; then
      got=$(($(now_ms) - t_hook))
      break
    fi
    sleep 0.25
  done
  if [[ -n "$got" ]]; then
    pass "reply reaches the Graph API (POST $want to …$SUBSCRIBER)" "$(secs "$got") after the webhook"
    figure "webhook to Graph API reply" "$(secs "$got")"
  else
    fail "reply reaches the Graph API (POST $want to …$SUBSCRIBER)" "nothing within 20 s; $(wc -l <"$WORK/graph-requests.log") request(s) seen"
    figure "webhook to Graph API reply" "none within 20 s"
  fi
fi

say "graceful stop"
# podman stop sends the image's STOPSIGNAL (SIGTERM) and would SIGKILL after 15 s; the app should be gone
# well before 10 s, with exit code 0.
t=$(now_ms)
pm stop -t 15 "$CONTAINER" >/dev/null 2>&1
stop_ms=$(($(now_ms) - t))
exit_code="$(pm inspect --format '{{.State.ExitCode}}' "$CONTAINER" 2>/dev/null)"
figure "SIGTERM to exit" "$(secs "$stop_ms")"
check "exit code 0 after SIGTERM" "exit code ${exit_code:-unknown}" test "$exit_code" = 0
check "SIGTERM to exit under 10 s" "$(secs "$stop_ms")" test "$stop_ms" -lt 10000

# Done: the EXIT trap prints the summary and sets the exit code.
exit 0
