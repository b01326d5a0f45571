# popguard image: build with dev dependencies, run with production ones only.

# Build stage: compile TypeScript to dist/src and copy the Lua scripts beside it.
FROM node:24-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci
COPY tsconfig.json tsconfig.build.json ./
COPY scripts ./scripts
COPY src ./src
RUN npm run build

# Runtime stage: no compiler, no dev dependencies, not root.
# NODE_ENV=production: a run needs keys, a policy file and a Redis (REDIS_URL, REDIS_CLUSTER_NODES or
# REDIS_SENTINELS; README), else it exits 78 naming the variables.
FROM node:24-slim AS runtime
ENV NODE_ENV=production
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev && npm cache clean --force
COPY --from=build /app/dist ./dist
# The example policy, for POPGUARD_POLICY_FILE=/app/examples/policy.json in docker-compose.yml.
COPY examples ./examples
# The commit shown in popguard_build_info: docker build --build-arg POPGUARD_COMMIT=$(git rev-parse --short HEAD) .
# Declared after npm ci, so a new commit does not invalidate the dependency layer.
ARG POPGUARD_COMMIT=unknown
ENV POPGUARD_COMMIT=${POPGUARD_COMMIT}
# Files stay owned by root: the service can read its code but not rewrite it.
USER node
EXPOSE 3000
# The slim image has no curl; node's own fetch asks the liveness route.
HEALTHCHECK --interval=10s --timeout=3s --start-period=10s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:' + (process.env.PORT || 3000) + '/healthz', { signal: AbortSignal.timeout(2000) }).then(r => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
# Exec form, node itself: SIGTERM reaches the server's graceful shutdown (npm would not pass it on).
CMD ["node", "dist/src/server.js"]
