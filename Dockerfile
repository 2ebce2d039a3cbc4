# syntax=docker/dockerfile:1
#
# The WhatsApp privacy-rights bot as a small, non-root image.
#   docker build -t privacybot .                       (official Node image from a registry)
#   podman build --format docker --build-arg BASE_IMAGE=localhost/node-base:20 .   (see scripts/container/)
# Containers always get MONGODB_URI: the embedded FerretDB is a development convenience and is neither
# built nor shipped here.
#
# Any Debian-based Node >= 20.19 image with npm and a `node` user (uid 1000) works as the base.
ARG BASE_IMAGE=node:20-bookworm-slim

# ---- deps: production dependencies only --------------------------------------------------------------
# A stage of its own so it is cached until package*.json change, and so nothing from the dev toolchain
# can reach the runtime image (only /app/node_modules leaves this stage; npm's cache stays behind).
# --omit=optional: i18next declares TypeScript as an optional peer, and because TypeScript is also our dev
# dependency npm would otherwise put its 23 MB into the production tree. No production code needs an
# optional dependency today; check the image size if one is added.
# --ignore-scripts: no production dependency needs an install script (the only one in the lockfile,
# @parcel/watcher, is a dev dependency); drop the flag if that ever changes.
FROM ${BASE_IMAGE} AS deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --omit=optional --ignore-scripts --no-audit --no-fund

# ---- build: compile TypeScript with the dev dependencies ------------------------------------------------
FROM ${BASE_IMAGE} AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
# Source maps point at src/*.ts, which the runtime image does not have; leave them behind.
RUN npm run build \
 && find dist -name '*.map' -delete

# ---- runtime ---------------------------------------------------------------------------------------------
FROM ${BASE_IMAGE} AS runtime
LABEL org.opencontainers.image.title="whatsapp-privacy-rights-bot" \
      org.opencontainers.image.description="WhatsApp bot for self-service privacy rights (STOP, MY DATA, DELETE) on MongoDB"
ENV NODE_ENV=production \
    PORT=3000 \
    HOST=0.0.0.0
WORKDIR /app
# Only what runs: compiled code, production node_modules, package.json and the translations that are read
# at run time (locales/<lng>/*.json). Files stay owned by root, so the app user cannot rewrite its own code.
COPY --from=deps /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY package.json ./
COPY locales ./locales
# Static pages of the staff console (the sandbox simulator is never served in production).
COPY public ./public
# Numeric uid:gid of the base image's `node` user: Kubernetes' runAsNonRoot can only verify a number.
USER 1000:1000
EXPOSE 3000
# Liveness only (the process answers); readiness (/readyz, database reachable) is for load balancers and
# orchestrators, so a database outage does not get the container restarted. No curl in slim images: node.
HEALTHCHECK --interval=10s --timeout=5s --start-period=30s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.PORT||3000)+'/healthz',{signal:AbortSignal.timeout(4000)}).then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
# node itself is PID 1 (exec form, no shell, no npm, no entrypoint script of the base image): it receives
# SIGTERM directly, stops taking requests, releases its leases, closes the database and exits 0 within 9 s.
# Give it at least 10 s before SIGKILL (docker stop -t / Kubernetes terminationGracePeriodSeconds).
STOPSIGNAL SIGTERM
ENTRYPOINT ["node", "dist/main.js"]
CMD []
