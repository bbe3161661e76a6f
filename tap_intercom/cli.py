"""`tap-intercom`: the SDK's command line, with every user error reported as one clear line."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from .client import resolve_base_url
from .errors import ConfigError, IntercomError
from .mechanics import API_VERSIONS, DEFAULT_MAX_CONCURRENCY, parse_datetime
from .streams.knowledge import custom_object_stream_name
from .tap import TapIntercom

NO_CONFIG_NEEDED = {"--about", "--help", "--version"}


def option_values(argv: list[str], name: str) -> list[str]:
    values = []
    for i, arg in enumerate(argv):
        if arg == name and i + 1 < len(argv):
            values.append(argv[i + 1])
        elif arg.startswith(name + "="):
            values.append(arg.split("=", 1)[1])
    return values


def load_json_file(path: str, what: str) -> object:
    try:
        return json.loads(Path(path).read_text())
    except OSError as exc:
        raise ConfigError(f"cannot read the {what} file {path}: {exc.strerror}") from None
    except ValueError as exc:
        raise ConfigError(f"the {what} file {path} is not valid JSON ({exc})") from None


def check_config(config: dict) -> None:
    """The checks whose failure would otherwise surface deep inside a sync."""
    if not str(config.get("access_token") or "").strip():
        raise ConfigError("the access_token setting is missing (set TAP_INTERCOM_ACCESS_TOKEN or access_token)")
    for key in ("start_date", "end_date"):
        value = config.get(key)
        if value is not None:
            try:
                parse_datetime(str(value))
            except ValueError:
                raise ConfigError(f"{key} is not an ISO 8601 date-time: {value!r}") from None
    if config.get("start_date") and config.get("end_date"):
        if parse_datetime(config["start_date"]) > parse_datetime(config["end_date"]):
            raise ConfigError("start_date is after end_date")
    version = config.get("api_version", API_VERSIONS[-1])
    if str(version) not in API_VERSIONS:
        raise ConfigError(f"api_version {version!r} is not one this tap has been shown to read; "
                          f"use one of {', '.join(API_VERSIONS)}")
    page_size = config.get("page_size", 150)
    if page_size is not None and (not isinstance(page_size, int) or not 1 <= page_size <= 150):
        raise ConfigError(f"page_size must be an integer from 1 to 150, got {page_size!r}")
    lookback = config.get("lookback_window_days", 0)
    if not isinstance(lookback, int) or lookback < 0:
        raise ConfigError(f"lookback_window_days must be a whole number of days ≥ 0, got {lookback!r}")
    concurrency = config.get("max_concurrency", DEFAULT_MAX_CONCURRENCY)
    if not isinstance(concurrency, int) or isinstance(concurrency, bool) or not 1 <= concurrency <= 64:
        raise ConfigError(f"max_concurrency must be a whole number from 1 to 64, got {concurrency!r}")
    share = config.get("rate_limit_share", 1)
    if not isinstance(share, (int, float)) or isinstance(share, bool) or not 0 < share <= 1:
        raise ConfigError(f"rate_limit_share must be a number above 0 and at most 1, got {share!r}")
    timeout = config.get("request_timeout", 120)
    if not isinstance(timeout, (int, float)) or timeout <= 0:
        raise ConfigError(f"request_timeout must be a positive number of seconds, got {timeout!r}")
    for key in ("custom_object_types", "reporting_datasets"):
        values = config.get(key) or []
        if not isinstance(values, list) or not all(isinstance(v, str) and v.strip() for v in values):
            raise ConfigError(f"{key} must be a list of names, got {values!r}")
    names = [custom_object_stream_name(v) for v in config.get("custom_object_types") or []]
    if len(set(names)) != len(names):
        raise ConfigError(f"custom_object_types gives two streams the same name: {names}")
    window = config.get("export_window_days", 30)
    if not isinstance(window, int) or isinstance(window, bool) or window < 1:
        raise ConfigError(f"export_window_days must be a whole number of days ≥ 1, got {window!r}")
    job_timeout = config.get("export_job_timeout_minutes", 60)
    if not isinstance(job_timeout, (int, float)) or job_timeout <= 0:
        raise ConfigError(f"export_job_timeout_minutes must be a positive number, got {job_timeout!r}")
    resolve_base_url(config)


def preflight(argv: list[str]) -> None:
    """Validate files and settings before the SDK starts, so errors are one line, not a traceback."""
    for path in option_values(argv, "--state"):
        state = load_json_file(path, "state")
        if not isinstance(state, dict):
            raise ConfigError(f"the state file {path} must hold a JSON object")
    for path in option_values(argv, "--catalog"):
        load_json_file(path, "catalog")
    configs = option_values(argv, "--config")
    if NO_CONFIG_NEEDED & set(argv) or "ENV" in configs:
        return  # ENV settings are checked by the SDK's schema
    merged: dict = {}
    for path in configs:
        config = load_json_file(path, "config")
        if not isinstance(config, dict):
            raise ConfigError(f"the config file {path} must hold a JSON object")
        merged.update(config)
    check_config(merged)


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    # Request workers mostly wait on the network; switching the interpreter between threads every
    # 50 ms instead of 5 ms costs them nothing measurable and saves a tenth of the CPU.
    sys.setswitchinterval(0.05)
    try:
        preflight(argv)
        result = TapIntercom.cli.main(args=argv, prog_name="tap-intercom", standalone_mode=False)
        return result if isinstance(result, int) else 0
    except IntercomError as exc:
        print(f"tap-intercom: error: {exc}", file=sys.stderr)
        return 1
    except click.ClickException as exc:
        print(f"tap-intercom: error: {exc.format_message()}", file=sys.stderr)
        return exc.exit_code or 2
    except click.exceptions.Exit as exc:
        return exc.exit_code
    except click.exceptions.Abort:
        return 130


if __name__ == "__main__":
    sys.exit(main())
