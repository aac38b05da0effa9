# Flowgate in a container. Node runs the TypeScript sources as they are (type stripping): there is
# no build step. The first stage installs the production dependencies only; the final one holds
# them, the sources and nothing else, and runs as the unprivileged `node` user.
#
#   docker build -t flowgate .
#   docker run --env-file .env -p 3000:3000 flowgate        # HTTP mode (see README: Running in a container)

ARG NODE_IMAGE=node:24-bookworm-slim

FROM ${NODE_IMAGE} AS deps
WORKDIR /app
COPY package.json package-lock.json ./
# Production dependencies only; none of them needs an install script.
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund

FROM ${NODE_IMAGE}
ENV NODE_ENV=production
WORKDIR /app
COPY --from=deps /app/node_modules ./node_modules
COPY package.json package-lock.json ./
COPY src ./src
# The SQLite database's default folder (a single replica without FLOWGATE_DB), writable by `node`.
RUN mkdir -p .flowgate && chown node:node .flowgate
USER node
# 3000: HTTP mode (POST /slack/events, GET /healthz, /readyz, /metrics);
# 9464: FLOWGATE_OPS_PORT when set to it (/healthz, /readyz, /metrics only; Socket Mode's only port).
EXPOSE 3000 9464
# Liveness, with Node's own fetch (the image has no curl): /healthz on FLOWGATE_OPS_PORT when set,
# else on PORT.
HEALTHCHECK --interval=15s --timeout=5s --start-period=20s --retries=3 \
  CMD ["node", "-e", "fetch(`http://127.0.0.1:${process.env.FLOWGATE_OPS_PORT || process.env.PORT || 3000}/healthz`).then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
# Exec form: node itself is PID 1 and gets SIGTERM (it stops within 2 s, exit code 0).
CMD ["node", "src/main.ts"]
