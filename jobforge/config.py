"""Settings from the environment (prefix ``JOBFORGE_``) or a ``.env`` file.

Every setting is documented in the README; the provider keys use the providers' own variable
names (``ANTHROPIC_API_KEY``, ``OPENAI_API_KEY``) so existing set-ups just work.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import AliasChoices, Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

PROJECT_ROOT = Path(__file__).resolve().parent.parent
# Reference material that sits beside a checkout (never committed into it).
SHARED_DIR = PROJECT_ROOT.parent / "shared"

ONET_DOWNLOAD_URL = "https://www.onetcenter.org/dl_files/database/db_{version}_text.zip"
CROSSWALK_DOWNLOAD_URL = "https://www.onetcenter.org/taxonomy/2019/walk/2010_to_2019_Crosswalk.csv?fmt=csv"


def default_data_dir() -> Path:
    return Path.home() / ".jobforge"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="JOBFORGE_", env_file=".env", env_file_encoding="utf-8", extra="ignore"
    )

    # Store
    data_dir: Path = Field(default_factory=default_data_dir)
    database_url: str | None = None  # default: sqlite file in data_dir
    sqlite_busy_timeout: float = 15.0  # seconds a SQLite write waits for another writer before "locked"

    # O*NET
    onet_version: str = "30_1"
    onet_source: str | None = None  # zip or folder; default: ../shared zip when present, else download
    onet_download_url: str = ONET_DOWNLOAD_URL
    onet_download_timeout: float = 120.0
    onet_download_max_mb: int = 200  # refuse bigger downloads (30.1 is ~4 MB)
    eval_labels: Path | None = None  # default: ../shared/eval/dev_titles.csv when present
    # O*NET-SOC 2010 -> 2019 taxonomy crosswalk (codebooks with 2010 codes): a CSV path; default
    # ../shared/onet/2010_to_2019_Crosswalk.csv when present, else downloaded once into the data folder.
    crosswalk_source: str | None = None
    crosswalk_download_url: str = CROSSWALK_DOWNLOAD_URL

    # Learning from decisions (jobforge.codebooks): "store" = decisions of every project help every
    # other project; "project" = only decisions of the same project (and codebooks) vote.
    learning_scope: str = "store"

    # LLM providers
    provider: str = "auto"  # auto | anthropic | openai | offline
    anthropic_api_key: SecretStr | None = Field(
        default=None, validation_alias=AliasChoices("ANTHROPIC_API_KEY", "JOBFORGE_ANTHROPIC_API_KEY")
    )
    openai_api_key: SecretStr | None = Field(
        default=None, validation_alias=AliasChoices("OPENAI_API_KEY", "JOBFORGE_OPENAI_API_KEY")
    )
    anthropic_model: str = "claude-sonnet-4-5"
    openai_model: str = "gpt-5-mini"
    anthropic_base_url: str | None = None
    openai_base_url: str | None = None
    llm_timeout: float = 60.0
    llm_max_retries: int = 4
    llm_concurrency: int = 4
    llm_batch_size: int = 12
    # Readings: the model reads weakly retrieved titles as occupation titles first ("weak" | "all" | "off").
    llm_readings: Literal["weak", "all", "off"] = "weak"
    llm_retry_base_delay: float = 1.0  # seconds; doubled per retry (with jitter) unless Retry-After says otherwise
    llm_retry_max_delay: float = 60.0
    llm_max_output_tokens: int = 8192  # a cap, not a cost: reasoning models need room to think
    # OpenAI reasoning effort: "auto" = "low" for reasoning models (gpt-5*, o*), not sent otherwise;
    # or minimal | low | medium | high; "" = never sent.
    openai_reasoning_effort: str = "auto"
    llm_batch_poll_interval: float = 30.0  # seconds between status checks of a provider batch-API job
    # Prices in USD per million tokens (input, output) for the cost estimate.
    anthropic_price_in: float = 3.0
    anthropic_price_out: float = 15.0
    openai_price_in: float = 0.25
    openai_price_out: float = 2.0

    # Uploads (jobforge.ingest.limits): checked before a file is parsed
    max_upload_mb: int = 200  # also Streamlit's server.maxUploadSize (make run, the browser tests)
    upload_max_uncompressed_mb: int = 1024  # a workbook's parts once unzipped
    upload_max_cells: int = 10_000_000  # a sheet's range (rows x columns) and its cells
    upload_max_cell_chars: int = 32_767  # Excel's own cell limit; longer cells are refused with their row
    upload_max_roles: int = 100_000  # unique roles one upload may add
    upload_parse_memory_mb: int = 4096  # address-space limit of the process that parses an upload
    upload_parse_timeout: float = 600.0  # seconds before that process is stopped

    # Who
    user: str | None = None  # local user name; asked once in the app when unset

    # App
    app_worker: bool = True  # on SQLite the app runs jobs in a background thread of its own
    export_xlsx_warn_rows: int = 50_000  # the Export page suggests CSV above this many original rows
    review_page_size: int = 2000  # rows sent to the review grid at once (filters narrow the rest)

    # Mapping runs and jobs
    map_offline_batch_size: int = 200  # roles per committed batch with the offline selector
    map_batch_delay: float = 0.0  # seconds to pause after each committed batch (throttling; tests use it)
    job_heartbeat_seconds: float = 10.0  # a running job's worker refreshes its heartbeat this often
    job_stale_seconds: float = 120.0  # a running job with an older heartbeat is re-queued and resumed
    worker_poll_seconds: float = 1.0  # how often an idle worker looks for queued jobs

    # Attribute imputation (jobforge.imputation)
    # Grouping columns for inheritance, nearest first: Role columns or keys of the role's context.
    imputation_group_columns: list[str] = Field(default_factory=lambda: ["job_family", "job_function"])
    imputation_agreement: float = 0.6  # share of siblings with a value that must hold the same value
    imputation_min_agreeing: int = 2  # and at least this many siblings
    # Extra attribute-column rules (case-insensitive substring -> O*NET profile field or "none"), JSON in env.
    imputation_attribute_rules: dict[str, str] = Field(default_factory=dict)
    imputation_top_n: int = 5  # skills, knowledge, tasks... listed per O*NET value
    imputation_batch_size: int = 25  # roles per committed batch

    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        self.data_dir.mkdir(parents=True, exist_ok=True)
        return f"sqlite:///{self.data_dir / 'jobforge.db'}"

    def resolved_onet_source(self) -> str | None:
        """An explicit source, else the shared reference zip when present, else None (download)."""
        if self.onet_source:
            return self.onet_source
        shared = SHARED_DIR / "onet" / f"db_{self.onet_version}_text.zip"
        return str(shared) if shared.exists() else None

    def resolved_crosswalk_source(self) -> str | None:
        """An explicit crosswalk, else the shared reference copy when present, else None (download)."""
        if self.crosswalk_source:
            return self.crosswalk_source
        shared = SHARED_DIR / "onet" / "2010_to_2019_Crosswalk.csv"
        return str(shared) if shared.exists() else None

    def resolved_eval_labels(self) -> Path | None:
        if self.eval_labels:
            return self.eval_labels
        shared = SHARED_DIR / "eval" / "dev_titles.csv"
        return shared if shared.exists() else None


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
