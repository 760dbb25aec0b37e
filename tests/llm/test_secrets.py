"""No API key is stored, logged, exported or shown, even when a provider's error quotes the request.

The fake server's ``echo_headers`` fault answers like a gateway that repeats the headers it got
(``x-api-key`` / ``authorization: Bearer …`` first) in its error message; the real SDKs carry it.
"""

from __future__ import annotations

import logging
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest
from fakes.llm_server import FakeLLMServer, echo_headers
from sqlalchemy import Engine, select

from jobforge.cli import main
from jobforge.config import get_settings
from jobforge.db.engine import get_engine, session_factory
from jobforge.db.models import Base, Project, Role, Upload
from jobforge.imputation.service import impute_project
from jobforge.jobs.queue import enqueue
from jobforge.jobs.worker import Worker, error_text
from jobforge.llm.base import LLMError, Message
from jobforge.llm.factory import ConnectionCheck, check_connection, make_client
from jobforge.redaction import REDACTED, scrub
from jobforge.retrieval.normalize import title_key
from jobforge.ui.errors import user_message

ANTHROPIC_KEY = "sk-ant-api03-Secret0Anthropic0Key0ForTests0Only"
OPENAI_KEY = "plain-openai-key-without-any-shape-0123"  # caught by value only: no key shape
KEYS = (ANTHROPIC_KEY, OPENAI_KEY)


def leaked(text: str) -> list[str]:
    """The keys (or their first 12 characters: a cut key is still a leak) found in ``text``."""
    return [key for key in KEYS if key[:12] in text]


@pytest.fixture
def keyed(fake_llm_env: FakeLLMServer, monkeypatch: pytest.MonkeyPatch) -> FakeLLMServer:
    """The fake server with realistic keys configured; every model call echoes the headers (HTTP 400)."""
    monkeypatch.setenv("ANTHROPIC_API_KEY", ANTHROPIC_KEY)
    monkeypatch.setenv("OPENAI_API_KEY", OPENAI_KEY)
    monkeypatch.setenv("JOBFORGE_LLM_MAX_RETRIES", "0")
    get_settings.cache_clear()
    fake_llm_env.fail_when(lambda call: True, echo_headers(400))
    return fake_llm_env


@pytest.fixture
def store(onet_engine: Engine, monkeypatch: pytest.MonkeyPatch) -> Iterator[Engine]:
    url = onet_engine.url.render_as_string(hide_password=False)
    monkeypatch.setenv("JOBFORGE_DATABASE_URL", url)
    get_settings.cache_clear()
    yield onet_engine
    get_engine(url).dispose()


def everything_stored(engine: Engine) -> str:
    """Every row of every table as text."""
    parts: list[str] = []
    with engine.connect() as conn:
        for table in Base.metadata.sorted_tables:
            parts.extend(repr(tuple(row)) for row in conn.execute(select(table)))
    return "\n".join(parts)


def project_with_an_attribute(engine: Engine, titles: list[str]) -> int:
    """A project whose upload declares one attribute column ("Education"), left empty."""
    with session_factory(engine)() as session, session.begin():
        project = Project(name="attrs", created_by="tester")
        session.add(project)
        session.flush()
        upload = Upload(project_id=project.id, filename="a.csv", title_column="Job Title", attribute_columns=["Education"])
        session.add(upload)
        session.flush()
        session.add_all(
            Role(project_id=project.id, upload_id=upload.id, title=t, title_key=title_key(t)) for t in titles
        )
        return project.id


def xlsx_text(path: Path) -> str:
    with zipfile.ZipFile(path) as book:
        return "\n".join(book.read(name).decode("utf-8", "replace") for name in book.namelist())


# -- the scrubber ------------------------------------------------------------------------------


def test_scrub_removes_configured_keys_and_key_shapes_but_keeps_prose(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", OPENAI_KEY)
    get_settings.cache_clear()
    text = (
        f"rejected {OPENAI_KEY}; "
        "{'x-api-key': 'unknown-but-sent-key', \"Authorization\": \"Bearer abc.def-ghi\"} "
        "api_key=hunter2hunter2 sk-proj-AAAAbbbbCCCCdddd1234 AIzaSyA1234567890abcdefghijklmnop "
        "Proxy-Authorization: Basic dXNlcjpwYXNzd29yZA=="
    )
    cleaned = scrub(text)
    for secret in (OPENAI_KEY, "unknown-but-sent-key", "abc.def-ghi", "hunter2hunter2", "sk-proj-AAAA", "AIzaSyA1234", "dXNlcjpw"):
        assert secret not in cleaned
    assert cleaned.count(REDACTED) == 7 and "'x-api-key': '[redacted]'" in cleaned
    prose = "the API key was rejected (HTTP 401): task-force sk-8 Authorization required"
    assert scrub(prose) == prose


# -- the clients, the Admin connection test, the worker, pages ------------------------------------


def test_a_provider_error_quoting_the_key_is_scrubbed(keyed: FakeLLMServer, llm_provider: str) -> None:
    client = make_client(llm_provider)
    with pytest.raises(LLMError) as caught:
        client.parse([Message("user", "hi")], ConnectionCheck)
    message = caught.value.message
    assert not leaked(message) and REDACTED in message and "HTTP 400" in message
    sent = keyed.requests[-1].headers
    assert any(KEYS[0] in v or KEYS[1] in v for v in sent.values())  # the key really was on the wire


def test_connection_check_shows_no_key_even_one_typed_on_the_admin_page(keyed: FakeLLMServer, llm_provider: str) -> None:
    typed = "typed-on-admin-page-key-987654"
    for api_key in (None, typed):
        result = check_connection(llm_provider, api_key=api_key)
        assert not result.available
        assert not leaked(result.reason) and typed[:12] not in result.reason and REDACTED in result.reason


def test_job_errors_and_page_messages_are_scrubbed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ANTHROPIC_API_KEY", ANTHROPIC_KEY)
    get_settings.cache_clear()
    raw = RuntimeError(f"upstream said: x-api-key={ANTHROPIC_KEY}")
    assert not leaked(error_text(raw)) and error_text(raw).startswith("RuntimeError: upstream said")
    assert not leaked(user_message(LLMError("error", f"quoted {ANTHROPIC_KEY}")))


def test_log_lines_and_tracebacks_are_scrubbed(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", OPENAI_KEY)
    get_settings.cache_clear()
    log_file = tmp_path / "app.log"
    handler = logging.FileHandler(log_file, encoding="utf-8")
    logger = logging.getLogger("jobforge.test_secrets")
    logger.addHandler(handler)
    try:
        try:
            raise RuntimeError(f"the SDK said Authorization: Bearer {OPENAI_KEY}")
        except RuntimeError:
            logger.exception("call failed with %s", OPENAI_KEY)
    finally:
        logger.removeHandler(handler)
        handler.close()
    written = log_file.read_text()
    assert "Traceback" in written and "RuntimeError" in written
    assert not leaked(written) and not leaked(caplog.text)


# -- end to end: map, impute, export on both stores -----------------------------------------------


def test_no_key_in_any_stored_row_export_log_or_message(
    keyed: FakeLLMServer,
    store: Engine,
    llm_provider: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)  # the SDKs' and httpx's own debug lines included
    source = tmp_path / "people.csv"
    pd.DataFrame({"Job Title": ["Line Cook", "Truck Driver", "Staff Accountant"]}).to_csv(source, index=False)
    main(["map", str(source), "--column", "Job Title", "--provider", llm_provider, "--batch-size", "2"])
    project_id = project_with_an_attribute(store, ["Line Cook", "Cashier"])
    with session_factory(store)() as session:
        summary = impute_project(session, project_id, provider=llm_provider)
    assert summary.errors and not leaked(repr(summary.to_dict()))
    # The same work as jobs: their error, message and result are stored too.
    with session_factory(store)() as session:
        enqueue(session, "map", project_id, {"provider": llm_provider}, "tester")
        enqueue(session, "impute", project_id, {"provider": llm_provider}, "tester")
    worker = Worker(store, worker_id="secrets-test")
    assert worker.run_once() and worker.run_once()
    csv_out, xlsx_out = tmp_path / "out.csv", tmp_path / "out.xlsx"
    for out in (csv_out, xlsx_out):
        assert main(["export", "people", "--out", str(out)]) == 0

    shown = capsys.readouterr()
    stored = everything_stored(store)
    assert len(keyed.model_calls()) >= 3
    assert REDACTED in stored + shown.err  # the reason is kept, without the key
    logs = "".join(p.read_text() for p in Path(get_settings().data_dir).rglob("*.log"))
    for where, text in {
        "store": stored,
        "csv export": csv_out.read_text(),
        "xlsx export": xlsx_text(xlsx_out),
        "terminal": shown.out + shown.err,
        "log records": caplog.text,
        "log files": logs,
    }.items():
        assert not leaked(text), where


def test_a_bad_env_file_line_logged_while_reading_settings_does_not_recurse(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """python-dotenv logs a warning for a line it cannot parse; reading settings happens inside scrubbing."""
    (tmp_path / ".env").write_text("this line is not a setting 'unclosed\nOPENAI_API_KEY=" + OPENAI_KEY + "\n")
    monkeypatch.chdir(tmp_path)
    get_settings.cache_clear()
    logging.getLogger("jobforge.test_secrets").warning("said %s", OPENAI_KEY)
    assert "could not parse" in caplog.text  # the nested record really happened
    assert "said [redacted]" in caplog.text and not leaked(caplog.text)
