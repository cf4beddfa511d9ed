# syntax=docker/dockerfile:1
# Multi-stage: build a virtualenv with the CPU build of torch and the bundled models, then copy it
# into a slim runtime image that runs as a non-root user. Runs the same commands as README.md.

FROM python:3.11-slim-bookworm AS build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /app
# CPU-only torch first: an unpinned torch would pull a multi-GB CUDA build.
RUN python -m venv /app/.venv \
 && /app/.venv/bin/pip install --index-url https://download.pytorch.org/whl/cpu torch==2.13.0
COPY pyproject.toml README.md ./
COPY catalog ./catalog
COPY models ./models
COPY service ./service
COPY scripts ./scripts
# The dense model is exported to ONNX at build time: the service then starts without torch.
RUN /app/.venv/bin/pip install . \
 && HF_HUB_OFFLINE=1 PARTNERMATCH_ONNX_DIR=/app/onnx /app/.venv/bin/partnermatch index models

FROM python:3.11-slim-bookworm AS runtime
ENV PATH=/app/.venv/bin:$PATH \
    HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 \
    PARTNERMATCH_DATABASE_URL=sqlite:////data/partnermatch.db \
    PARTNERMATCH_INDEX_DIR=/data/index \
    PARTNERMATCH_ONNX_DIR=/app/onnx
RUN useradd --create-home --uid 10001 partnermatch && mkdir /data && chown 10001 /data
WORKDIR /app
COPY --from=build /app/.venv /app/.venv
COPY --from=build /app/onnx /app/onnx
COPY catalog/data ./catalog/data
USER 10001
EXPOSE 8000
HEALTHCHECK --interval=15s --timeout=3s --start-period=60s --retries=3 \
  CMD ["python", "-c", "import urllib.request,sys; sys.exit(urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=2).status != 200)"]
CMD ["sh", "-c", "partnermatch import catalog catalog/data/demo_catalog.yaml && exec partnermatch serve --host 0.0.0.0 --port 8000"]
