# CDO Hub, with SQLite in the /data volume by default. The mode follows the environment: Socket
# Mode when SLACK_APP_TOKEN is set (then port 3000 serves only /healthz and /metrics), else HTTP
# on port 3000 (/slack/events, /healthz, /metrics). CDO_HUB_PORT moves the port in both.
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
ENV DATABASE_URL=sqlite:////data/cdo-hub.db \
    CDO_HUB_PORT=3000
VOLUME /data

EXPOSE 3000

# slim has no curl: ask Python. A 503 raises, so the check fails. The same port in both modes.
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:%s/healthz' % os.environ.get('CDO_HUB_PORT', '3000'), timeout=4)"]

# --port and --health-port both default to $CDO_HUB_PORT.
CMD ["cdo-hub", "serve"]
