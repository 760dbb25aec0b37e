"""Occupation codes in the systems a codebook may use, read as codes of the active O*NET release.

Systems (``--system``):

- ``onet2019`` O*NET-SOC 2019 (``15-1252.00``): the codes of O*NET 25.x–30.x, taken as they are.
- ``soc2018`` SOC 2018 6-digit (``15-1252``): its ``.00`` occupation (said in the translation);
  a SOC code O*NET has no ``.00`` for (``15-1299``) goes to all its detailed occupations.
- ``onet2010`` O*NET-SOC 2010 (``15-1132.00``) and ``soc2010`` SOC 2010 6-digit (``15-1132``):
  through the O*NET 2010→2019 taxonomy crosswalk. A code that split keeps all its 2019 codes.
- ``auto`` reads each code in the system most of the file's codes are valid in (2019/2018 first
  on a tie), and a code valid only in the other family in that one.

The crosswalk comes from ``JOBFORGE_CROSSWALK_SOURCE`` (default: the reference copy beside the
project), else it is downloaded once from the O*NET Resource Center into the data folder.
"""

from __future__ import annotations

import csv
import io
import re
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from jobforge.config import Settings, get_settings
from jobforge.errors import JobForgeError

SYSTEMS = ("auto", "onet2019", "soc2018", "onet2010", "soc2010")
SYSTEM_LABELS = {
    "onet2019": "O*NET-SOC 2019",
    "soc2018": "SOC 2018",
    "onet2010": "O*NET-SOC 2010",
    "soc2010": "SOC 2010",
}
_ONET_CODE = re.compile(r"^(\d{2})-?(\d{4})\.(\d{2})$")
_SOC_CODE = re.compile(r"^(\d{2})-?(\d{4})$")
CROSSWALK_COLUMNS = ("O*NET-SOC 2010 Code", "O*NET-SOC 2019 Code")


class CodeSystemError(JobForgeError, ValueError):
    """A code system or the crosswalk cannot be used; the message says why."""


@dataclass(frozen=True)
class Reading:
    """One code read as codes of the active release."""

    codes: tuple[str, ...]  # O*NET-SOC 2019 codes of the active release, e.g. ("15-1252.00",)
    system: str  # the system it was read in (never "auto")
    translated: bool  # the written code is not itself a code of the release

    def note(self, written: str) -> str:
        """ "15-1132 (SOC 2010) → 15-1252.00" for a translation, "" otherwise."""
        if not self.translated:
            return ""
        return f"{written} ({SYSTEM_LABELS[self.system]}) → {', '.join(self.codes)}"


def clean_code(text: str) -> tuple[str, str] | None:
    """(kind, canonical code) of a written code: ("onet", "15-1252.00") or ("soc", "15-1252"); None
    when it is neither shape. Spaces are dropped; "151252" and "15-1252.0" are read too."""
    value = re.sub(r"\s+", "", str(text or ""))
    if value.endswith(".0") and _SOC_CODE.match(value[:-2]):  # a spreadsheet number 151252.0
        value = value[:-2]
    if re.fullmatch(r"\d{2}-?\d{4}\.\d", value):
        value += "0"  # "15-1252.0" (a float cell) -> "15-1252.00"
    match = _ONET_CODE.match(value)
    if match:
        return "onet", f"{match[1]}-{match[2]}.{match[3]}"
    match = _SOC_CODE.match(value)
    if match:
        return "soc", f"{match[1]}-{match[2]}"
    return None


class CodeReader:
    """Reads written codes as codes of one release (``valid``), with the 2010→2019 crosswalk."""

    def __init__(self, valid: Iterable[str], crosswalk: dict[str, tuple[str, ...]] | None) -> None:
        self.valid = frozenset(valid)
        self._by_soc: dict[str, list[str]] = defaultdict(list)
        for code in sorted(self.valid):
            self._by_soc[code[:7]].append(code)
        self.crosswalk = crosswalk  # O*NET-SOC 2010 code -> 2019 codes; None: not needed yet
        self._soc2010: dict[str, tuple[str, ...]] = {}
        if crosswalk:
            grouped: dict[str, list[str]] = defaultdict(list)
            for old, new in crosswalk.items():
                grouped[old[:7]].extend(new)
            self._soc2010 = {soc: tuple(dict.fromkeys(codes)) for soc, codes in grouped.items()}

    def read(self, written: str, system: str) -> Reading | None:
        """``written`` read in ``system`` (not "auto"); None when it is not a valid code there."""
        parsed = clean_code(written)
        if parsed is None:
            return None
        kind, code = parsed
        if system == "onet2019":
            return Reading((code,), system, False) if kind == "onet" and code in self.valid else None
        if system == "soc2018":
            if kind != "soc":
                return None
            if f"{code}.00" in self.valid:
                return Reading((f"{code}.00",), system, True)
            detailed = tuple(self._by_soc.get(code, ()))
            return Reading(detailed, system, True) if detailed else None
        if self.crosswalk is None:
            raise CodeSystemError("2010 codes need the O*NET 2010→2019 crosswalk, which is not loaded.")
        if system == "onet2010":
            new = self.crosswalk.get(code, ()) if kind == "onet" else ()
        elif system == "soc2010":
            new = self._soc2010.get(code, ()) if kind == "soc" else ()
        else:
            raise CodeSystemError(f"Unknown code system '{system}': choose one of {', '.join(SYSTEMS)}.")
        kept = tuple(c for c in new if c in self.valid)
        # A 2010 code that is the same 2019 code (most of them) is not a translation.
        return Reading(kept, system, kept != (code,)) if kept else None

    def read_auto(self, written: str, prefer_2010: bool) -> Reading | None:
        """``written`` in the first system it is valid in; 2019/2018 first unless ``prefer_2010``."""
        kind = (clean_code(written) or ("", ""))[0]
        if not kind:
            return None
        modern = "onet2019" if kind == "onet" else "soc2018"
        old = "onet2010" if kind == "onet" else "soc2010"
        for system in (old, modern) if prefer_2010 else (modern, old):
            if system in (old,) and self.crosswalk is None:
                continue
            found = self.read(written, system)
            if found is not None:
                return found
        return None

    def prefers_2010(self, written_codes: Iterable[str]) -> bool:
        """Whether more of the codes are valid only as 2010 codes than only as 2019/2018 codes."""
        if self.crosswalk is None:
            return False
        only_old = only_new = 0
        for written, count in Counter(written_codes).items():  # a codebook repeats few codes many times
            kind = (clean_code(written) or ("", ""))[0]
            if not kind:
                continue
            new = self.read(written, "onet2019" if kind == "onet" else "soc2018") is not None
            old = self.read(written, "onet2010" if kind == "onet" else "soc2010") is not None
            only_new += count * (new and not old)
            only_old += count * (old and not new)
        return only_old > only_new


def needs_crosswalk(system: str) -> bool:
    return system in ("auto", "onet2010", "soc2010")


def parse_crosswalk(text: str) -> dict[str, tuple[str, ...]]:
    """O*NET-SOC 2010 code -> its 2019 codes (file order) from the crosswalk CSV's text."""
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    missing = [name for name in CROSSWALK_COLUMNS if name not in (reader.fieldnames or [])]
    if missing:
        raise CodeSystemError(f"The crosswalk lacks the column(s) {', '.join(missing)}.")
    links: dict[str, list[str]] = defaultdict(list)
    for row in reader:
        old = clean_code(row[CROSSWALK_COLUMNS[0]] or "")
        new = clean_code(row[CROSSWALK_COLUMNS[1]] or "")
        if old and new and new[1] not in links[old[1]]:
            links[old[1]].append(new[1])
    if not links:
        raise CodeSystemError("The crosswalk has no rows.")
    return {old: tuple(new) for old, new in links.items()}


_CROSSWALK_CACHE: dict[str, dict[str, tuple[str, ...]]] = {}


def load_crosswalk(settings: Settings | None = None) -> dict[str, tuple[str, ...]]:
    """The 2010→2019 crosswalk from the configured source, else downloaded once (see the module doc).

    Raises :class:`CodeSystemError` when it cannot be read or downloaded.
    """
    settings = settings or get_settings()
    source = settings.resolved_crosswalk_source()
    if source is None:
        cached = Path(settings.data_dir) / "onet" / "2010_to_2019_Crosswalk.csv"
        if not cached.exists():
            _download(settings.crosswalk_download_url, cached, settings.onet_download_timeout)
        source = str(cached)
    if source not in _CROSSWALK_CACHE:
        try:
            text = Path(source).read_text(encoding="utf-8-sig")
        except OSError as exc:
            raise CodeSystemError(f"Cannot read the crosswalk {source}: {exc.strerror or exc}") from exc
        _CROSSWALK_CACHE[source] = parse_crosswalk(text)
    return _CROSSWALK_CACHE[source]


def _download(url: str, target: Path, timeout: float) -> None:
    import httpx

    try:
        response = httpx.get(url, timeout=timeout, follow_redirects=True)
        response.raise_for_status()
    except httpx.HTTPError as exc:
        raise CodeSystemError(
            f"Cannot download the O*NET 2010→2019 crosswalk from {url} ({exc}); set JOBFORGE_CROSSWALK_SOURCE "
            "to a local copy."
        ) from exc
    parse_crosswalk(response.text)  # refuse an error page before keeping it
    target.parent.mkdir(parents=True, exist_ok=True)
    part = target.with_suffix(".part")
    part.write_text(response.text, encoding="utf-8")
    part.replace(target)
