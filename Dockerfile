# One image for every gpuflow process: `api`, `orchestrator`, `worker <modules...>`.
# GPU hosts build their own image FROM this one (or a CUDA base with Node 20+) and add their job modules.
FROM node:20-bookworm-slim
WORKDIR /app
ENV NODE_ENV=production
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund
COPY bin ./bin
COPY cli ./cli
COPY config ./config
COPY protocol ./protocol
COPY contracts ./contracts
COPY workflows ./workflows
COPY activities ./activities
COPY storage ./storage
COPY jobs ./jobs
COPY sdk ./sdk
COPY workers ./workers
COPY api ./api
COPY scripts ./scripts
COPY examples ./examples
COPY tsconfig.json ./
# The directory blob store's volume: created here so that a new named volume belongs to the node user.
RUN mkdir -p /data && chown node:node /data
USER node
ENTRYPOINT ["node", "bin/gpuflow.js"]
CMD ["--help"]
