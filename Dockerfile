# Deflect in a container: one `deflect` process (compose.yaml runs it behind Caddy).
#
#   docker build -t deflect .
#   docker run -d -e DEFLECT_TOKEN=... -v deflect-data:/data -v deflect-keys:/keys deflect
#       (long polling: no public URL, no proxy; compose.yaml runs the webhook instead)
#
# tests/test_deploy.py checks this file against the real `deflect` command line.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

# A fixed uid/gid, so that volumes and backups keep one owner across rebuilds and hosts.
RUN groupadd --system --gid 10001 deflect \
    && useradd --system --uid 10001 --gid deflect --no-create-home \
       --home-dir /nonexistent --shell /usr/sbin/nologin deflect

WORKDIR /opt/deflect
COPY . /opt/deflect
# Installed in place (-e): the translations are read from locales/ beside the packages
# (bot/i18n.py, LOCALES_DIR), which a plain wheel does not carry. The catalogs and the
# bytecode are compiled now, as root: the code stays read-only for the user that runs it.
RUN pip install --no-cache-dir -e /opt/deflect \
    && python -c "from bot.i18n import compile_catalogs; compile_catalogs()" \
    && python -m compileall -q /opt/deflect/bot /opt/deflect/handlers /opt/deflect/directory \
       /opt/deflect/members /opt/deflect/referrals /opt/deflect/storage

# The data and the key live apart, on two volumes. The key is kept apart from the data so
# that a copy of the database alone re-identifies nobody (every member hash and sealed id
# needs the key: README, "deflect run"), and so that backups of /data never include it.
# Back up /keys separately, somewhere else, or keep the key in a secrets manager
# (DEFLECT_KEY). Both folders belong to the bot's user only; a new named volume takes
# these owners and modes on its first mount.
RUN mkdir -p /data /keys \
    && chown deflect:deflect /data /keys \
    && chmod 0700 /data /keys
VOLUME ["/data", "/keys"]
ENV DEFLECT_DB=/data/deflect.sqlite3 \
    DEFLECT_KEY_FILE=/keys/deflect.key \
    DEFLECT_OPS_LISTEN=0.0.0.0:9464

USER deflect

# 8443: the webhook server (`--listen`), reached only through the reverse proxy.
# 9464: /healthz and /metrics (DEFLECT_OPS_LISTEN), for the health check and Prometheus on
# the private network; never publish it, and never route it through the proxy.
EXPOSE 8443 9464

# slim has no curl: Python's urllib. A 503 (unhealthy) raises, so the check fails.
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:9464/healthz', timeout=4)"]

ENTRYPOINT ["deflect"]
# An exec-form CMD cannot expand variables, so the public URL comes from the command line:
# compose.yaml gives `run --webhook-url https://<domain>/tg --listen 0.0.0.0:8443`. Without
# --webhook-url the bot long-polls (and --listen is unused).
CMD ["run", "--listen", "0.0.0.0:8443"]
