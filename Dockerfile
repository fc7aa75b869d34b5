# CDO Hub: the bot served over HTTP on port 3000, with SQLite in the /data volume by default.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

RUN useradd --create-home --uid 10001 --shell /usr/sbin/nologin cdohub \
    && mkdir /data \
    && chown cdohub:cdohub /data

WORKDIR /app

COPY pyproject.toml README.md config.example.toml requirements.lock ./
COPY bot/ bot/
COPY migrations/ migrations/

# A regular (non-editable) install: the migrations package ships with it. The lock pins every
# dependency to the versions CI tested.
RUN pip install --no-cache-dir -c requirements.lock ".[postgres]" \
    && rm -rf build cdo_hub.egg-info

USER cdohub

# Overridden by -e DATABASE_URL=postgresql://... ; this default wins over [database] url.
ENV DATABASE_URL=sqlite:////data/cdo-hub.db
VOLUME /data

EXPOSE 3000

# slim has no curl: ask Python. A 503 raises, so the check fails.
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:3000/healthz', timeout=4)"]

CMD ["cdo-hub", "serve", "--http", "--port", "3000"]
