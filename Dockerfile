# netseg operator image. Multi-stage: the build stage compiles TypeScript and installs production dependencies;
# the runtime stage holds only Node.js, the compiled code, the production node_modules and the CRD, and runs as a
# non-root user. Base images are pinned to an exact Node.js LTS release (24, "Krypton"; Node 20 is past its end of
# life, though the code stays compatible with it). Release pipelines should add the @sha256 digest they resolved.
# There is no Docker engine on the build machines: test/unit/dockerfile.test.ts checks these instructions instead.

FROM node:24.21.0-bookworm-slim AS build
WORKDIR /src
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json ./
COPY src ./src
COPY test ./test
COPY bench ./bench
RUN npx tsc -p tsconfig.json \
 && npm prune --omit=dev --no-audit --no-fund

FROM node:24.21.0-bookworm-slim AS runtime
ENV NODE_ENV=production
WORKDIR /app
# npm, corepack and yarn are not needed at run time: less code, fewer advisories.
RUN rm -rf /usr/local/lib/node_modules/npm /usr/local/lib/node_modules/corepack /opt/yarn* \
      /usr/local/bin/npm /usr/local/bin/npx /usr/local/bin/corepack /usr/local/bin/yarn /usr/local/bin/yarnpkg
COPY --from=build /src/package.json ./package.json
COPY --from=build /src/node_modules ./node_modules
COPY --from=build /src/dist/src ./dist/src
COPY bin ./bin
COPY crds ./crds
# 65532: the conventional "nonroot" uid; numeric, so runAsNonRoot can verify it without /etc/passwd.
USER 65532:65532
EXPOSE 8080
ENTRYPOINT ["node", "/app/bin/netseg", "operator"]
