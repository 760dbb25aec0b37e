"""How well the word-list rule of jobforge/retrieval/language.py tells English titles from others.

    .venv/bin/python bench/languages.py
    PYTHONPATH=/path/with/py3langid .venv/bin/python bench/languages.py   # also a general detector

English titles: every O*NET 30.1 occupation and alternate title, and the distinct titles of
../shared/eval/dev_titles.csv (real employer titles, all English): any of them called "not
English" is a false alarm (the analyst would get no proposal). Other languages: the titles below,
written for this benchmark (common job titles of German, French and Spanish job boards, and some
Italian, Portuguese and Dutch ones the dictionary does not cover): each should be called not
English; for de/fr/es, the top candidate of its translation is checked against the SOC code given.
When ``py3langid`` is importable, the same titles are classified by it too (restricted to
en/de/fr/es/it/pt/nl), for comparison.
"""

from __future__ import annotations

import argparse
import csv
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.accuracy import DEFAULT_STORE, bench_index  # noqa: E402

# (title, language, SOC 2018 code of the right occupation or "" when any honest answer will do)
FOREIGN = [
    ("Bäcker", "de", "51-3011"),
    ("Buchhalter", "de", "43-3031"),
    ("Elektriker", "de", "47-2111"),
    ("Pflegefachkraft (m/w/d)", "de", "29-1141"),
    ("Krankenschwester", "de", "29-1141"),
    ("Softwareentwickler (m/w/d)", "de", "15-1252"),
    ("Verkäufer", "de", "41-2031"),
    ("Verkäuferin (m/w/d)", "de", "41-2031"),
    ("Kassierer", "de", "41-2011"),
    ("Lagerarbeiter", "de", "53-7062"),
    ("Berufskraftfahrer", "de", "53-3032"),
    ("Koch", "de", "35-2014"),
    ("Kellner", "de", "35-3031"),
    ("Lehrerin", "de", ""),
    ("Erzieher (m/w/d)", "de", "25-2011"),
    ("Zahnarzt", "de", "29-1021"),
    ("Tierarzt", "de", "29-1131"),
    ("Apotheker", "de", "29-1051"),
    ("Altenpfleger", "de", "31-1131"),
    ("Maurer", "de", "47-2021"),
    ("Dachdecker", "de", "47-2181"),
    ("Tischler", "de", "47-2031"),
    ("Friseurin", "de", "39-5012"),
    ("Metzger", "de", "51-3021"),
    ("Schweißer", "de", "51-4121"),
    ("Projektleiter", "de", "11-9199"),
    ("Filialleiter", "de", "41-1011"),
    ("Sachbearbeiterin Buchhaltung", "de", ""),
    ("Mechaniker", "de", "49-3023"),
    ("Gärtner", "de", "37-3011"),
    ("Reinigungskraft", "de", "37-2011"),
    ("Steuerberater", "de", "13-2082"),
    ("Rechtsanwalt", "de", "23-1011"),
    ("Architekt", "de", "17-1011"),
    ("Elektroniker für Betriebstechnik", "de", ""),
    ("Mitarbeiter Kundendienst", "de", ""),
    ("Boulanger", "fr", "51-3011"),
    ("Comptable", "fr", "13-2011"),
    ("Infirmière", "fr", "29-1141"),
    ("Infirmier (H/F)", "fr", "29-1141"),
    ("Ingénieur logiciel", "fr", "15-1252"),
    ("Développeur (H/F)", "fr", "15-1252"),
    ("Électricien", "fr", "47-2111"),
    ("Plombier", "fr", "47-2152"),
    ("Serveuse", "fr", "35-3031"),
    ("Vendeuse", "fr", "41-2031"),
    ("Caissier", "fr", "41-2011"),
    ("Cuisinier", "fr", "35-2014"),
    ("Chauffeur livreur", "fr", "53-3033"),
    ("Menuisier", "fr", "47-2031"),
    ("Pharmacien", "fr", "29-1051"),
    ("Avocat", "fr", "23-1011"),
    ("Technicien de maintenance", "fr", "49-9071"),
    ("Agent de nettoyage", "fr", "37-2011"),
    ("Aide-soignant", "fr", "31-1131"),
    ("Secrétaire médicale", "fr", "43-6013"),
    ("Responsable des ventes", "fr", "11-2022"),
    ("Coiffeuse", "fr", "39-5012"),
    ("Panadero", "es", "51-3011"),
    ("Contador", "es", "13-2011"),
    ("Enfermera", "es", "29-1141"),
    ("Enfermero/a", "es", "29-1141"),
    ("Ingeniero de software", "es", "15-1252"),
    ("Desarrollador", "es", "15-1252"),
    ("Electricista", "es", "47-2111"),
    ("Mesero", "es", "35-3031"),
    ("Camarera", "es", "35-3031"),
    ("Cajero", "es", "41-2011"),
    ("Cocinero", "es", "35-2014"),
    ("Vendedora", "es", "41-2031"),
    ("Técnico de laboratorio", "es", ""),
    ("Auxiliar administrativo", "es", "43-6014"),
    ("Jefe de cocina", "es", ""),
    ("Abogado", "es", "23-1011"),
    ("Albañil", "es", "47-2021"),
    ("Soldador", "es", "51-4121"),
    ("Jardinero", "es", "37-3011"),
    ("Agente de servicio al cliente", "es", "43-4051"),
    ("Gerente de ventas", "es", "11-2022"),
    ("Conserje", "es", "37-2011"),
    ("Infermiere", "it", ""),
    ("Cuoco", "it", ""),
    ("Commessa", "it", ""),
    ("Magazziniere", "it", ""),
    ("Ragioniere", "it", ""),
    ("Enfermeiro", "pt", ""),
    ("Cozinheiro", "pt", ""),
    ("Motorista", "pt", ""),
    ("Verpleegkundige", "nl", ""),
    ("Vrachtwagenchauffeur", "nl", ""),
    ("Kok", "nl", ""),
    ("Magazijnmedewerker", "nl", ""),
]
DETECTOR_LANGUAGES = ["en", "de", "fr", "es", "it", "pt", "nl"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--store", default=DEFAULT_STORE)
    parser.add_argument("--false-alarms", help="write the English titles called not English to this file")
    args = parser.parse_args()

    from jobforge.config import get_settings
    from jobforge.db.engine import get_engine, session_factory
    from jobforge.evaluation.self_retrieval import release_titles
    from jobforge.retrieval.index import read_release

    index = bench_index(args.store)
    with session_factory(get_engine(args.store))() as session:
        onet = [title for _, _, title in release_titles(read_release(session, index.release_id))]
    labels = get_settings().resolved_eval_labels()
    with Path(labels).open(encoding="utf-8") as handle:
        dev = sorted({row["title"].strip() for row in csv.DictReader(handle) if row["title"].strip()})
    alarms: list[str] = []
    for name, titles in (("O*NET titles", onet), ("dev_titles.csv", dev)):
        started = time.perf_counter()
        flagged = [t for t in titles if not index.language_of(t).english]
        alarms += flagged
        share = 100 * len(flagged) / len(titles)
        print(
            f"{name}: {len(flagged)} of {len(titles)} called not English ({share:.2f}%), "
            f"{1000 * (time.perf_counter() - started) / len(titles):.2f} ms/title"
        )
    recognised = translated = right = with_code = 0
    for title, _language, code in FOREIGN:
        found = index.language_of(title)
        recognised += not found.english
        translated += bool(found.translation)
        if code:
            with_code += 1
            candidates = index.candidates(title)
            right += bool(candidates) and candidates[0].code.startswith(code)
    print(
        f"other languages: {recognised} of {len(FOREIGN)} called not English; {translated} translated; "
        f"top-1 right for {right} of {with_code} with a known code"
    )
    try:
        import py3langid
    except ImportError:
        return
    py3langid.set_languages(DETECTOR_LANGUAGES)
    for name, titles in (("O*NET titles", onet), ("dev_titles.csv", dev)):
        wrong = sum(py3langid.classify(t)[0] != "en" for t in titles)
        print(f"py3langid {name}: {wrong} of {len(titles)} called not English ({100 * wrong / len(titles):.2f}%)")
    hits = sum(py3langid.classify(t)[0] != "en" for t, _, _ in FOREIGN)
    exact = sum(py3langid.classify(t)[0] == lang for t, lang, _ in FOREIGN)
    print(f"py3langid other languages: {hits} of {len(FOREIGN)} called not English, {exact} the right language")
    if args.false_alarms:
        Path(args.false_alarms).write_text("\n".join(alarms), encoding="utf-8")


if __name__ == "__main__":
    main()
