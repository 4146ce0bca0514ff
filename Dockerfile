# The project's own image: the CLI, the Faust processors, the sink and `boxoffice setup`.
FROM python:3.11-slim-bookworm
WORKDIR /app
COPY pyproject.toml README.md ./
COPY boxoffice ./boxoffice
COPY contracts ./contracts
COPY connectors ./connectors
COPY stream_processors ./stream_processors
COPY warehouse ./warehouse
# Superset's dashboards as code, which `boxoffice setup` imports; the editable install
# keeps the repository layout (REPO_ROOT = /app) that finds them.
COPY superset ./superset
# /state is the app-state volume: a new named volume takes this directory's owner.
RUN pip install --no-cache-dir -e . && mkdir /state && chown nobody /state
USER nobody
ENTRYPOINT []
CMD ["boxoffice", "--help"]
