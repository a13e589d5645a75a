# The MARAC bot's container: `marac serve` on port 3978, as a non-root user, with no compiler,
# package manager cache or source checkout in the final image. Migrations are not run here:
# the deployment runs `marac db upgrade` as a job before a new revision takes traffic
# (docs/operations.md).
# The desk's front-end packages, as pinned in package-lock.json (bot/desk/pages.py serves them).
FROM node:20-bookworm-slim AS web
WORKDIR /src
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund

FROM python:3.11-slim-bookworm AS build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1 PYTHONDONTWRITEBYTECODE=1
WORKDIR /src
RUN python -m venv /opt/marac
COPY pyproject.toml README.md ./
COPY bot ./bot
COPY cards ./cards
COPY dialogs ./dialogs
COPY storage ./storage
# A wheel install (not editable): the final image needs only the virtual environment.
RUN /opt/marac/bin/pip install ".[azure]"

FROM python:3.11-slim-bookworm
LABEL org.opencontainers.image.title="marac-bot" \
      org.opencontainers.image.description="The MARAC bot for Microsoft Teams"
ENV PATH=/opt/marac/bin:$PATH \
    PYTHONUNBUFFERED=1 PYTHONDONTWRITEBYTECODE=1 \
    HOST=0.0.0.0 PORT=3978 LOG_FORMAT=json DESK_NODE_MODULES=/opt/marac/node_modules
RUN groupadd --system --gid 10001 marac \
    && useradd --system --uid 10001 --gid marac --no-create-home --shell /usr/sbin/nologin marac
COPY --from=build /opt/marac /opt/marac
COPY --from=web /src/node_modules/@microsoft/teams-js/dist/umd/MicrosoftTeams.min.js \
     /opt/marac/node_modules/@microsoft/teams-js/dist/umd/
COPY --from=web /src/node_modules/@fluentui/web-components/dist/web-components.min.js \
     /opt/marac/node_modules/@fluentui/web-components/dist/
WORKDIR /home/marac
USER 10001:10001
EXPOSE 3978
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen(f\"http://127.0.0.1:{os.environ.get('PORT', '3978')}/livez\", timeout=4)"]
ENTRYPOINT ["marac"]
CMD ["serve"]
