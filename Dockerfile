# tap-intercom as an Airbyte source image (Airbyte's connector conventions: the protocol command
# as entrypoint, AIRBYTE_ENTRYPOINT, io.airbyte.* labels). Build: docker build -t tap-intercom-airbyte:0.1.0 .
FROM python:3.11-slim

WORKDIR /airbyte/integration_code
COPY pyproject.toml README.md ./
COPY tap_intercom ./tap_intercom
COPY intercom_sandbox ./intercom_sandbox
COPY schemas ./schemas
RUN pip install --no-cache-dir ".[airbyte]"

ENV AIRBYTE_ENTRYPOINT="tap-intercom-airbyte"
ENTRYPOINT ["tap-intercom-airbyte"]

LABEL io.airbyte.name=tap-intercom-airbyte
LABEL io.airbyte.version=0.1.0
