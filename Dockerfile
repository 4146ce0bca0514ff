# The project's own image: the CLI, the Faust processors and the sink.
FROM python:3.11-slim-bookworm
WORKDIR /app
COPY pyproject.toml README.md ./
COPY boxoffice ./boxoffice
COPY connectors ./connectors
COPY stream_processors ./stream_processors
COPY warehouse ./warehouse
RUN pip install --no-cache-dir .
USER nobody
ENTRYPOINT []
CMD ["boxoffice", "--help"]
