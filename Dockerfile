# One image for web (daphne), worker and beat; the command picks the role.
FROM python:3.12-slim-bookworm AS build
RUN apt-get update \
 && apt-get install -y --no-install-recommends build-essential pkg-config libmariadb-dev \
 && rm -rf /var/lib/apt/lists/*
COPY requirements/ /tmp/requirements/
RUN python -m venv /opt/venv \
 && /opt/venv/bin/pip install --no-cache-dir -r /tmp/requirements/prod.txt

FROM python:3.12-slim-bookworm
RUN apt-get update \
 && apt-get install -y --no-install-recommends libmariadb3 \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --uid 1000 --home-dir /app sudamall
COPY --from=build /opt/venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    STATIC_ROOT=/app/static \
    SUDAMALL_VAR_DIR=/app/var \
    LOG_DIR=/app/logs
WORKDIR /app/api
COPY api/ /app/api/
RUN SECRET_KEY=collectstatic-only-not-a-secret-0123456789abcdef LOG_TO_FILE=false \
    python manage.py collectstatic --noinput \
 && mkdir -p /app/var /app/logs \
 && chown -R sudamall /app/var /app/logs
USER sudamall
EXPOSE 8000
CMD ["daphne", "-b", "0.0.0.0", "-p", "8000", "--proxy-headers", "api.asgi:application"]
