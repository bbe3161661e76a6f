"""The nightly exports: outbound message engagement (content data) and reporting datasets."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from functools import cached_property

from ..errors import ConfigError
from ..exports import ExportJobStream


class ContentDataExportStream(ExportJobStream):
    """Who received each outbound message (email, post, series …) and what they did with it."""

    name = "content_data_export"
    path = "/export/content/data"
    primary_keys = ("receipt_id",)
    cancel_path = "/export/cancel/{job_identifier}"
    permission = "Read and export messages"

    def create_job(self, window, context) -> dict:
        return self.http.post(self.path, {"created_at_after": window[0], "created_at_before": window[1]})

    def status_path(self, job_id: str) -> str:
        return f"/export/content/data/{job_id}"

    def rows_to_records(self, rows: Iterator[dict], window, context) -> Iterable[dict]:
        for number, row in enumerate(rows, 1):
            yield {**{k: (v if v != "" else None) for k, v in row.items()}, **self.base_record(window, number)}


class ReportingDataExportStream(ExportJobStream):
    """Rows of the reporting datasets named in `reporting_datasets`, each with every attribute."""

    name = "reporting_data_export"
    path = "/export/reporting_data/enqueue"
    primary_keys = ("dataset_id", "export_window_start", "row_number")
    since = "2.14"
    permission = "Read and export reporting data"

    @property
    def partitions(self) -> list[dict] | None:
        return [{"dataset_id": dataset} for dataset in self.config.get("reporting_datasets") or []]

    @cached_property
    def datasets(self) -> dict[str, dict]:
        return {d["id"]: d for d in self.http.get("/export/reporting_data/get_datasets").get("data") or []}

    def request_records(self, context: dict | None) -> Iterable[dict]:
        if not context:
            self.logger.info("No reporting_datasets configured: nothing to export")
            return
        dataset = context["dataset_id"]
        if dataset not in self.datasets:
            raise ConfigError(f"reporting_datasets: Intercom has no dataset {dataset!r}; "
                              f"available: {', '.join(sorted(self.datasets))}")
        yield from super().request_records(context)

    def create_job(self, window, context) -> dict:
        dataset = self.datasets[context["dataset_id"]]
        attributes = [a.get("qualified_id") or a["id"] for a in dataset.get("attributes") or []]
        return self.http.post(self.path, {"dataset_id": dataset["id"], "attribute_ids": attributes,
                                          "start_time": window[0], "end_time": window[1]})

    @cached_property
    def app_id(self) -> str:
        """The workspace's id code, which the reporting job endpoints require."""
        return str((self.http.get("/me").get("app") or {}).get("id_code") or "")

    def status_path(self, job_id: str) -> str:
        # client_id is required too but documented nowhere; the workspace code is accepted.
        return f"/export/reporting_data/{job_id}?app_id={self.app_id}&client_id={self.app_id}"

    def download_url(self, job: dict) -> str:
        url = job["download_url"]
        return url if "app_id=" in url else f"{url}{'&' if '?' in url else '?'}app_id={self.app_id}"

    def rows_to_records(self, rows: Iterator[dict], window, context) -> Iterable[dict]:
        for number, row in enumerate(rows, 1):
            yield {"dataset_id": context["dataset_id"], "data": row, **self.base_record(window, number)}
