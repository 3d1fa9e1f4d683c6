# syntax=docker/dockerfile:1
# certhook's image: the CLI compiled to JavaScript, production dependencies only, run as a
# non-root user. test/build/image.test.ts reproduces the runtime stage below without a Docker engine.

# The base: a full Node version (what package.json's node devDependency runs the tests with), and
# optionally its digest, e.g. --build-arg NODE_DIGEST=@sha256:<digest of that tag>, to pin it to
# the byte.
ARG NODE_IMAGE=node:24.21.0-bookworm-slim
ARG NODE_DIGEST=""

# The compiled output is plain JavaScript, the same for every platform: build it natively.
FROM --platform=$BUILDPLATFORM ${NODE_IMAGE}${NODE_DIGEST} AS build
WORKDIR /app
COPY package.json package-lock.json ./
# Install scripts are skipped: the only one is the node@24 devDependency's, and the image has Node 24.
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
# tsc directly rather than through npx, whose PATH would put node@24's uninstalled `node` first.
RUN node node_modules/typescript/bin/tsc -p tsconfig.build.json

# The production dependencies are plain JavaScript too (no native addon, no install script:
# test/build/image.test.ts checks), so they are installed natively as well, and a multi-arch build
# emulates no RUN step.
FROM --platform=$BUILDPLATFORM ${NODE_IMAGE}${NODE_DIGEST} AS deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund

FROM ${NODE_IMAGE}${NODE_DIGEST}
# The OCI labels registries and scanners read; the release workflow passes the tag's version, the
# commit and the repository's URL.
ARG VERSION=dev
ARG REVISION=unknown
ARG SOURCE=https://github.com/certhook/certhook
LABEL org.opencontainers.image.title="certhook" \
      org.opencontainers.image.description="Runs deploy hooks (Jobs or signed webhooks) exactly once when cert-manager creates, renews or revokes a certificate" \
      org.opencontainers.image.licenses="Apache-2.0" \
      org.opencontainers.image.source="${SOURCE}" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${REVISION}"
WORKDIR /app
ENV NODE_ENV=production
# Stack traces point at the TypeScript sources' lines (dist/ carries the source maps). The heap is
# capped below the chart's 256 MiB memory limit, and the young generation kept small, so that V8
# collects garbage rather than growing the process until it is OOM-killed (npm run bench measures
# the operator with these options).
ENV NODE_OPTIONS="--enable-source-maps --max-semi-space-size=2 --max-old-space-size=160"
# Two malloc arenas, not glibc's eight a core: the threads that allocate outside the V8 heap (I/O,
# crypto) leave less memory unused in arenas of their own (12 MiB less RSS after a mass renewal).
ENV MALLOC_ARENA_MAX=2
# And a fixed trim threshold, with blocks of 128 KiB and more mapped on their own: glibc gives what
# is freed back to the system instead of keeping it for later (after a mass renewal at 10,000
# Secrets, the memory outside the V8 heap went from 95–115 MiB to 80–91 MiB over four runs each).
ENV MALLOC_TRIM_THRESHOLD_=131072
ENV MALLOC_MMAP_THRESHOLD_=131072
# Everything is owned by root and read-only to the process: it writes nothing to its filesystem.
# package.json's "type": "module" is what makes bin/ and dist/ ES modules.
COPY package.json ./
COPY --from=deps /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY bin ./bin
# A numeric user, so the kubelet can verify runAsNonRoot (the chart's securityContext sets it).
USER 1000:1000
ENTRYPOINT ["node", "/app/bin/certhook.js"]
CMD ["operator"]
