# One image for the web app and every worker (docker-compose.yml).
# The app runs on this image's Python (/usr/local/bin/python). Solutions are judged by Debian's own
# /usr/bin/python3 (JUDGE_PYTHON) inside bubblewrap: the app's packages are never visible there.
FROM python:3.11-slim-bookworm

# Every program the sandbox runs, by the path the judge uses (tests/test_deployment.py checks that
# dpkg's owner of each path is in this list):
#   bubblewrap       /usr/bin/bwrap      isolation
#   python3-minimal  /usr/bin/python3    JUDGE_PYTHON; python3 adds the standard library solutions import
#   g++              /usr/bin/g++        C++17 solutions
# libpq5 is psycopg's client library.
RUN apt-get update \
    && apt-get install -y --no-install-recommends bubblewrap python3-minimal python3 g++ libpq5 \
    && rm -rf /var/lib/apt/lists/*

# The app never runs as root. /data is the volume shared by web and workers (uploads, exports).
RUN groupadd --system --gid 10001 microcoder \
    && useradd --system --uid 10001 --gid microcoder --home-dir /app --no-create-home --shell /usr/sbin/nologin microcoder \
    && mkdir -p /data/var /data/media && chown -R microcoder:microcoder /data

WORKDIR /app
COPY requirements.lock .
RUN pip install --no-cache-dir -r requirements.lock
COPY . .

ENV DJANGO_SETTINGS_MODULE=microcoder_site.settings \
    PYTHONUNBUFFERED=1 \
    MICROCODER_VAR_DIR=/data/var \
    MEDIA_ROOT=/data/media \
    STATIC_ROOT=/app/staticfiles \
    JUDGE_PYTHON=/usr/bin/python3

# Content-hashed, compressed static files, built into the image (served by whitenoise). The key
# exists only for this build step; DEBUG stays off, as in production.
RUN SECRET_KEY=collectstatic-only-not-a-runtime-key MICROCODER_VAR_DIR=/tmp/build-var \
    python manage.py collectstatic --noinput && rm -rf /tmp/build-var

USER microcoder
EXPOSE 8000
CMD ["gunicorn", "microcoder_site.wsgi:application", "--bind", "0.0.0.0:8000", "--workers", "3"]
