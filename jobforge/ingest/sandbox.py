"""Reading an upload in a separate process with a memory limit, so that a hostile file fails alone.

The Upload page reads files inside the Streamlit server: one workbook that makes the parser
allocate gigabytes (or abort) would take every session and the in-app worker down. So the app
and `map` read through :func:`open_bounded`: a fresh Python process (``python -m
jobforge.ingest.sandbox``) limits its own address space (``setrlimit(RLIMIT_AS)``, setting
``JOBFORGE_UPLOAD_PARSE_MEMORY_MB``) before importing anything heavy, runs
:func:`jobforge.ingest.sheets.open_table`, and sends the result back over a pipe. A process that
runs out of memory, aborts or overruns ``JOBFORGE_UPLOAD_PARSE_TIMEOUT`` becomes a one-line
:class:`IngestError`; the server carries on. The checks made before parsing
(:mod:`jobforge.ingest.limits`) refuse the known hostile shapes with a precise message first,
in this process and in milliseconds. A small file whose every sheet is checked to reach at most a
million cells cannot need much memory, so it is read here (no process to start).
"""

from __future__ import annotations

import io
import os
import pickle
import signal
import subprocess
import sys
import zipfile
from typing import Any

from jobforge.config import PROJECT_ROOT
from jobforge.ingest.errors import IngestError
from jobforge.ingest.limits import (
    UploadLimits,
    check_declared_dimensions,
    check_sheet_extent,
    check_upload_size,
    check_workbook_size,
)

# Read in this process when every one of these holds (see _small); in the bounded process otherwise.
IN_PROCESS_MAX_BYTES = 2 * 1024 * 1024
IN_PROCESS_MAX_UNCOMPRESSED = 32 * 1024 * 1024
IN_PROCESS_MAX_CELLS = 1_000_000

# The child answers with one pickled dict on stdout: {"table": OpenedTable} or {"error": message}.
# It is our own code's output (a file's text only ever arrives as str values inside it).


def open_bounded(data: bytes, filename: str, sheet: str | None = None, header_row: int | None = None) -> Any:
    """:func:`~jobforge.ingest.sheets.open_table` in a memory-bounded process; an ``OpenedTable``.

    Raises :class:`IngestError` for anything the reader refuses, and when the reading process
    runs out of memory, dies or takes longer than the limit.
    """
    limits = UploadLimits.from_settings()
    check_upload_size(len(data), filename, limits)  # before a copy goes anywhere
    if filename.lower().endswith((".xlsx", ".xlsm")):  # the cheap checks here, at once; the rest in the child
        check_workbook_size(data, filename, limits)
        check_declared_dimensions(data, filename, limits)
    if _small(data, filename, limits):
        from jobforge.ingest.sheets import open_table

        return open_table(data, filename, sheet, header_row)
    request = pickle.dumps({"data": data, "filename": filename, "sheet": sheet, "header_row": header_row}, protocol=5)
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(PROJECT_ROOT), env.get("PYTHONPATH")]))
    try:
        done = subprocess.run(
            [sys.executable, "-m", "jobforge.ingest.sandbox", str(limits.parse_memory_mb)],
            input=request,
            capture_output=True,
            timeout=limits.parse_timeout,
            cwd=PROJECT_ROOT,
            env=env,
            check=False,
        )
    except subprocess.TimeoutExpired as exc:
        raise IngestError(
            f"Reading '{filename}' took longer than {limits.parse_timeout:g} s and was stopped "
            "(setting JOBFORGE_UPLOAD_PARSE_TIMEOUT). Save the table as CSV, or split the file."
        ) from exc
    answer = _answer(done.stdout)
    if answer is None:
        raise IngestError(_failure_message(filename, done.returncode, done.stderr, limits))
    if "error" in answer:
        raise IngestError(answer["error"])
    return answer["table"]


def _small(data: bytes, filename: str, limits: UploadLimits) -> bool:
    """A file small enough, once checked, to read in this process: no sheet can need much memory.

    A CSV of at most 2 MB; a workbook of at most 2 MB that unzips to at most 32 MB and whose
    sheets reach at most a million cells (their extents are scanned here, which also refuses a
    sparse sheet that declares nothing at once). Everything else goes to the bounded process.
    """
    if len(data) > IN_PROCESS_MAX_BYTES:
        return False
    if not filename.lower().endswith((".xlsx", ".xlsm")):
        return True
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            parts = archive.infolist()
            if sum(part.file_size for part in parts) > IN_PROCESS_MAX_UNCOMPRESSED:
                return False
            for part in parts:
                if part.filename.startswith("xl/worksheets/") and part.filename.endswith(".xml"):
                    extent = check_sheet_extent(archive, part.filename, f"A sheet of '{filename}'", limits)
                    if max(extent.rows * extent.columns, extent.cells) > IN_PROCESS_MAX_CELLS:
                        return False
    except zipfile.BadZipFile:
        return True  # the reader says what is wrong with it
    return True


def _answer(stdout: bytes) -> dict[str, Any] | None:
    if not stdout:
        return None
    try:
        return pickle.loads(stdout)
    except (pickle.UnpicklingError, EOFError, ValueError):
        return None


def _failure_message(filename: str, returncode: int, stderr: bytes, limits: UploadLimits) -> str:
    signs = (b"memory allocation", b"MemoryError", b"Cannot allocate memory", b"Unable to import required")
    out_of_memory = any(sign in stderr for sign in signs) or returncode == -signal.SIGKILL
    if out_of_memory or returncode == -signal.SIGABRT:
        return (
            f"'{filename}' needs more than {limits.parse_memory_mb:,} MB of memory to read "
            "(setting JOBFORGE_UPLOAD_PARSE_MEMORY_MB), so it was refused. A spreadsheet of that size on disk "
            "should not: save it again from Excel or as CSV."
        )
    return f"'{filename}' could not be read: the reading process stopped unexpectedly (exit {returncode})."


def _serve() -> int:
    """The child: limit memory, read the request from stdin, answer on stdout."""
    import resource

    memory_mb = int(sys.argv[1])
    limit = memory_mb * 1024 * 1024
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    request = pickle.loads(sys.stdin.buffer.read())
    out = sys.stdout.buffer
    sys.stdout = sys.stderr  # nothing a library prints may corrupt the answer
    from jobforge.ingest.sheets import open_table

    try:
        table = open_table(request["data"], request["filename"], request["sheet"], request["header_row"])
        answer: dict[str, Any] = {"table": table}
    except IngestError as exc:
        answer = {"error": exc.message}
    except MemoryError:
        answer = {
            "error": f"'{request['filename']}' needs more than {memory_mb:,} MB of memory to read "
            "(setting JOBFORGE_UPLOAD_PARSE_MEMORY_MB), so it was refused."
        }
    out.write(pickle.dumps(answer, protocol=5))
    out.flush()
    return 0


if __name__ == "__main__":
    sys.exit(_serve())
