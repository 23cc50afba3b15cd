# The `docket` host with Docket's components, for clusters without SpinKube:
# each service runs as an ordinary pod with an injected daprd, e.g.
#   env: SPIN_COMPONENTS_TO_RETAIN=todo-api, SPIN_VARIABLE_JWT_SECRET (from a Secret), ...
#   annotations: dapr.io/enabled "true", dapr.io/app-id "todo-api", dapr.io/app-port "8080"
# The components reach daprd at localhost:3500, as under SpinKube.

# The front end the web component embeds (web/dist).
FROM node:22-bookworm-slim AS web
WORKDIR /web
COPY web/package.json web/package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY web/ ./
RUN npm run build

FROM rust:1.95-bookworm AS build
RUN rustup target add wasm32-wasip2
WORKDIR /src
COPY . .
COPY --from=web /web/dist /web-dist
# scripts/build-components embeds this build instead of running npm itself.
ENV DOCKET_WEB_DIST=/web-dist
RUN scripts/build-components && cargo build --release --locked -p docket-cli

FROM debian:bookworm-slim
RUN apt-get update \
    && apt-get install -y --no-install-recommends ca-certificates \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --system --uid 10001 --home-dir /app docket
WORKDIR /app
COPY --from=build /src/target/release/docket /usr/local/bin/docket
COPY --from=build /src/spin.toml /app/spin.toml
COPY --from=build /src/migrations /app/migrations
COPY --from=build /src/components/target/wasm32-wasip2/release/*.wasm /app/components/target/wasm32-wasip2/release/
RUN mkdir -p /app/.docket && chown docket /app/.docket
USER docket
EXPOSE 8080
ENTRYPOINT ["docket"]
CMD ["up", "--no-sidecar", "--listen", "0.0.0.0:8080", "--no-watch"]
