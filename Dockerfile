# Genstream's production image. Its steps are scripts/production-steps.ts, kept equal by
# scripts/production-steps.test.ts; scripts/production-install.ts runs the same steps without Docker
# (CI). The image itself is not built in this project's CI (no Docker there).

FROM node:20-bookworm-slim AS build
WORKDIR /app
ENV NEXT_TELEMETRY_DISABLED=1
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY . .
RUN npm run build
RUN npm prune --omit=dev --no-audit --no-fund

FROM node:20-bookworm-slim
ENV NODE_ENV=production NEXT_TELEMETRY_DISABLED=1 HOSTNAME=0.0.0.0 PORT=3000 PGLITE_DIR=/app/.data/pglite
WORKDIR /app
# The built app with production dependencies only; owned by the unprivileged `node` user, which
# also owns .data/ (the embedded PGlite when DATABASE_URL is unset; mount a volume there).
COPY --from=build --chown=node:node /app /app
RUN mkdir -p /app/.data && chown node:node /app/.data
USER node
EXPOSE 3000
VOLUME ["/app/.data"]
HEALTHCHECK --interval=15s --timeout=5s --start-period=60s --retries=3 \
  CMD node -e "fetch('http://127.0.0.1:' + (process.env.PORT || 3000) + '/api/health').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"
# Applies the migrations, then runs the embedded executor and the app (see package.json "start").
CMD ["npm", "start"]
