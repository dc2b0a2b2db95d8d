# ganforge image: one image, two commands (`api` and `worker`).
#   docker build -t ganforge .                      CPU image (tfjs-node when it installs, else wasm)
#   docker build --target gpu -t ganforge:gpu .     CUDA image for workers (tfjs-node-gpu)

FROM node:20-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
COPY scripts ./scripts
COPY prisma ./prisma
COPY prisma.config.ts ./
RUN npm ci
COPY . .
RUN npm run db:generate && npm run build

# tfjs-node-gpu 4.22 links against CUDA 11.2 and cuDNN 8.1.
FROM nvidia/cuda:11.2.2-cudnn8-runtime-ubuntu20.04 AS gpu
RUN apt-get update && apt-get install -y --no-install-recommends curl ca-certificates \
  && curl -fsSL https://deb.nodesource.com/setup_20.x | bash - \
  && apt-get install -y --no-install-recommends nodejs build-essential python3 \
  && rm -rf /var/lib/apt/lists/*
WORKDIR /app
ENV NODE_ENV=production GANFORGE_ARTIFACTS_DIR=/data/artifacts GANFORGE_BACKEND=tensorflow-gpu
COPY --from=build /app /app
RUN npm rebuild @tensorflow/tfjs-node-gpu
VOLUME /data
ENTRYPOINT ["node", "dist/cli.js"]
CMD ["worker"]

# The last stage is what `docker build .` builds: the CPU image.
FROM node:20-bookworm-slim AS runtime
WORKDIR /app
ENV NODE_ENV=production GANFORGE_ARTIFACTS_DIR=/data/artifacts
COPY --from=build /app /app
VOLUME /data
EXPOSE 8080
ENTRYPOINT ["node", "dist/cli.js"]
CMD ["api"]
