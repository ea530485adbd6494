# Tarn: multi-stage build on Node 22 LTS; the runtime image has no compiler, no dev dependencies
# and runs as the unprivileged `node` user.
FROM node:22-bookworm-slim AS build
WORKDIR /build
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY config ./config
COPY src ./src
RUN npm run build && npm prune --omit=dev --no-audit --no-fund

FROM node:22-bookworm-slim
ENV NODE_ENV=production \
    PORT=3000 \
    DATA_DIR=/data
WORKDIR /app
COPY --from=build /build/node_modules ./node_modules
# Compiled code keeps the source layout, so src/ finds ../migrations and ../views as in development.
COPY --from=build /build/dist/src ./src
COPY --from=build /build/dist/config ./config
COPY package.json ./
COPY migrations ./migrations
COPY views ./views
COPY locales ./locales
RUN mkdir -p /data && chown node:node /data
USER node
VOLUME ["/data"]
EXPOSE 3000
HEALTHCHECK --interval=10s --timeout=3s --start-period=30s --retries=3 \
  CMD node -e "fetch('http://127.0.0.1:' + (process.env.PORT || 3000) + '/healthz').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"
CMD ["node", "src/main.js"]
