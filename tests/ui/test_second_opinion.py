"""Second opinions in the app (AppTest, SQLite then Postgres): the Admin section draws a sample and shows the
agreement; the second coder codes blind (never shown the first decision); a third person adjudicates.

Set-up (tests/review/opinion_helpers.py): Ann decided Staff Accountant, Java Developer and ICU Nurse
(29-1141.01) one by one; here she also moves Staff Accountant to 53-3032.00, a code that is not
among its candidates, so the blind page would betray it if it showed the first decision.
"""

from __future__ import annotations

import pytest
from sqlalchemy import Engine, select
from streamlit.testing.v1 import AppTest

from jobforge.db.engine import session_factory
from jobforge.db.models import AuditEvent, Mapping, SecondOpinionItem
from jobforge.review.actions import choose_code
from jobforge.review.second_opinion import draw_sample
from tests.factories import ADMIN, FIRST, SECOND, THIRD, VIEWER, make_decided_project
from tests.ui.conftest import APP, texts

FIRST_CODES = {"Staff Accountant": "53-3032.00", "Java Developer": "15-1252.00", "ICU Nurse": "29-1141.01"}


@pytest.fixture
def decided(ui_engine: Engine, monkeypatch: pytest.MonkeyPatch) -> tuple[Engine, int, dict[str, int]]:
    """The decided project; the app asks each session who is working (no JOBFORGE_USER)."""
    from jobforge.config import get_settings

    made = make_decided_project(ui_engine)
    with session_factory(ui_engine)() as s:
        choose_code(s, made.role_ids["Staff Accountant"], "53-3032.00", FIRST)
    monkeypatch.delenv("JOBFORGE_USER")
    get_settings.cache_clear()
    return ui_engine, made.project_id, made.role_ids


def _as(name: str, page: str, project_id: int) -> AppTest:
    at = AppTest.from_file(str(APP), default_timeout=60)
    at.session_state["jobforge_user"] = name
    at.session_state["project_id"] = project_id
    at.run()
    at.switch_page(f"pages/{page}.py").run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def _sample_for_bob(engine: Engine, project_id: int) -> None:
    with session_factory(engine)() as s:
        draw_sample(s, project_id, 3, SECOND, ADMIN, seed=3)


def _frame_with(at: AppTest, column: str):
    return next(df.value for df in at.dataframe if column in df.value.columns)


def test_an_admin_draws_a_sample_and_follows_it(decided) -> None:
    engine, project_id, _ = decided
    at = _as(ADMIN, "admin", project_id)
    assert "Second opinions" in [tab.label for tab in at.tabs]
    assert "4 roles decided one by one and 1 in bulk can be drawn" in texts(at)
    assert at.selectbox(key="opinions_coder").options == [ADMIN, FIRST, SECOND, THIRD]  # not the viewer
    at.selectbox(key="opinions_coder").set_value(SECOND)
    at.number_input(key="opinions_size").set_value(5)
    at.text_input(key="opinions_seed").input("3")
    at.button(key="opinions_draw").click().run()
    assert "Sample 1: 3 of 3 eligible roles for Bob (seed 3). Left out: 1 decided by Bob; 1 decided in bulk." in texts(
        at
    )
    samples = _frame_with(at, "Second coder")
    assert samples.iloc[0][["Second coder", "Roles", "Answered", "Seed"]].tolist() == ["Bob", 3, 0, "3"]
    table = _frame_with(at, "Cohen's κ")
    assert table["Compares"].tolist() == [
        "major group (e.g. 15)",
        "minor group (e.g. 15-1)",
        "detailed occupation (e.g. 15-1252)",
        "O*NET-SOC occupation (e.g. 15-1252.00)",
    ]
    assert set(table["Cohen's κ"]) == {"not defined"} and set(table["Share agreeing"]) == {"not defined"}
    assert "κ at 8 digits is not defined: no second opinions yet." in texts(at)
    with session_factory(engine)() as s:
        assert s.scalar(select(AuditEvent.user).where(AuditEvent.action == "second_opinion_sample")) == ADMIN
    # A bad seed is refused before anything is drawn.
    at.selectbox(key="opinions_coder").set_value(THIRD)
    at.text_input(key="opinions_seed").input("seven")
    at.button(key="opinions_draw").click().run()
    assert "The seed must be a whole number" in texts(at)
    assert len(_frame_with(at, "Second coder")) == 1


def test_the_second_coder_codes_blind_and_never_sees_the_first_decision(decided) -> None:
    engine, project_id, role_ids = decided
    _sample_for_bob(engine, project_id)
    at = _as(SECOND, "second_opinion", project_id)
    assert "0 of 3 sampled roles coded blind" in at.get("progress")[0].proto.text
    answers = {"Staff Accountant": "13-2011.00", "Java Developer": "15-1252.00", "ICU Nurse": None}
    for _ in range(3):
        shown = texts(at)
        title = at.subheader[0].value
        # Nothing about the proposal or the first decision: no code that was decided and is not a
        # candidate, no tier, no rationale, no status, not who decided.
        for hidden in ("53-3032", "HIGH", "MEDIUM", "LOW", "exact match", "Why:", "onfirmed", "verridden", FIRST):
            assert hidden not in shown, (title, hidden)
        item_id = next(int(b.key.split("_")[2]) for b in at.button if b.key and b.key.startswith("blind_cannot_"))
        code = answers[title]
        if code is None:
            at.text_area(key=f"blind_note_{item_id}").input("Which ward? Acute or general?")
            at.button(key=f"blind_cannot_{item_id}").click().run()
        else:
            assert at.radio(key=f"blind_pick_{item_id}").value is None  # nothing preselected
            at.radio(key=f"blind_pick_{item_id}").set_value(code).run()
            at.button(key=f"blind_record_{item_id}").click().run()
        assert not at.exception
    assert "You have coded every role given to you" in texts(at)
    with session_factory(engine)() as s:
        items = {i.role_id: i for i in s.scalars(select(SecondOpinionItem))}
        codes = {
            title: s.scalar(select(Mapping.onet_code).where(Mapping.role_id == rid)) for title, rid in role_ids.items()
        }
    assert items[role_ids["Staff Accountant"]].second_code == "13-2011.00"
    assert (
        items[role_ids["ICU Nurse"]].cannot_code
        and items[role_ids["ICU Nurse"]].second_note == "Which ward? Acute or general?"
    )
    # The answers changed no mapping.
    assert {title: codes[title] for title in FIRST_CODES} == FIRST_CODES
    # Bob coded two of the disagreements: a third person adjudicates them.
    assert "2 more wait for someone else: you coded those roles" in texts(at)


def test_search_any_occupation_in_the_blind_view(decided) -> None:
    engine, project_id, _ = decided
    _sample_for_bob(engine, project_id)
    at = _as(SECOND, "second_opinion", project_id)
    item_id = next(int(b.key.split("_")[2]) for b in at.button if b.key and b.key.startswith("blind_cannot_"))
    at.text_input(key=f"blind_search_{item_id}_query").input("truck").run()
    assert at.selectbox(key=f"blind_search_{item_id}_pick").value == (
        "53-3032.00",
        "Heavy and Tractor-Trailer Truck Drivers",
    )
    at.button(key=f"blind_search_use_{item_id}").click().run()
    with session_factory(engine)() as s:
        assert s.get(SecondOpinionItem, item_id).second_code == "53-3032.00"


def _answered(engine: Engine, project_id: int) -> None:
    """Bob has answered: Staff Accountant 13-2011.00 (differs), Java Developer (agrees), ICU Nurse cannot code."""
    from jobforge.review.second_opinion import blind_queue, record_blind_code

    _sample_for_bob(engine, project_id)
    answers = {"Staff Accountant": "13-2011.00", "Java Developer": "15-1252.00", "ICU Nurse": None}
    with session_factory(engine)() as s:
        queue = blind_queue(s, project_id, SECOND)
    for role in queue:
        with session_factory(engine)() as s:
            code = answers[role.title]
            record_blind_code(s, role.item_id, SECOND, code, cannot_code=code is None, note=None if code else "ward?")


def test_a_third_person_adjudicates_and_the_agreement_shows_it(decided) -> None:
    engine, project_id, role_ids = decided
    _answered(engine, project_id)
    at = _as(THIRD, "second_opinion", project_id)
    assert "Adjudicate · 2 waiting" in [tab.label for tab in at.tabs]
    with session_factory(engine)() as s:
        nurse_item = s.scalar(select(SecondOpinionItem.id).where(SecondOpinionItem.role_id == role_ids["ICU Nurse"]))
    at.selectbox(key="opinion_adjudicate_pick").set_value(nurse_item).run()
    shown = texts(at)
    assert "ICU Nurse" in shown and "Could not code this role." in shown and "Note: ward?" in shown
    assert at.button(key=f"adj_second_{nurse_item}").disabled
    at.button(key=f"adj_first_{nurse_item}").click().run()
    assert "“ICU Nurse” → 29-1141.01 (overridden). The mapping is updated." in texts(at)
    with session_factory(engine)() as s:
        nurse = s.scalar(select(Mapping).where(Mapping.role_id == role_ids["ICU Nurse"]))
        event = s.scalar(select(AuditEvent).where(AuditEvent.action == "adjudicate"))
    assert (nurse.onet_code, nurse.confirmed_by, nurse.decided_in_bulk) == ("29-1141.01", THIRD, False)
    assert event.user == THIRD and event.after["choice"] == "first"

    # The admin's figures: (53-3032.00, 13-2011.00), (15-1252.00, 15-1252.00), (29-1141.01, cannot code).
    # Every level: 1 of 3 agree; each category is used once by each coder and only 15… by both, so
    # p_e = 1/9 and κ = (1/3 − 1/9) / (1 − 1/9) = 1/4.
    admin = _as(ADMIN, "admin", project_id)
    table = _frame_with(admin, "Cohen's κ")
    assert table["Share agreeing"].tolist() == ["33%"] * 4 and table["Cohen's κ"].tolist() == ["0.25"] * 4
    metrics = {m.label: m.value for m in admin.metric}
    assert metrics["Disagreements (8 digits)"] == "2" and metrics["Adjudicated"] == "1"
    assert metrics["Waiting for adjudication"] == "1" and metrics["First decisions standing so far"] == "2 of 3"
    assert "After adjudication: first code kept 1, second code taken 0, another code chosen 0." in texts(admin)
    samples = _frame_with(admin, "Second coder")
    assert samples.iloc[0][["Answered", "Cannot code", "Disagreements", "Adjudicated"]].tolist() == [3, 1, 2, 1]


def test_a_stale_adjudication_is_refused_on_the_page(decided) -> None:
    engine, project_id, role_ids = decided
    _answered(engine, project_id)
    at = _as(THIRD, "second_opinion", project_id)
    with session_factory(engine)() as s:
        accountant_item = s.scalar(
            select(SecondOpinionItem.id).where(SecondOpinionItem.role_id == role_ids["Staff Accountant"])
        )
    at.selectbox(key="opinion_adjudicate_pick").set_value(accountant_item).run()
    assert "Staff Accountant" in texts(at)
    with session_factory(engine)() as s:  # Ann changes the role while Cy looks at it
        choose_code(s, role_ids["Staff Accountant"], "11-1011.00", FIRST)
    at.button(key=f"adj_second_{accountant_item}").click().run()
    assert "Adjudication failed: The mapping of this role changed since you opened it (now 11-1011.00" in texts(at)
    with session_factory(engine)() as s:
        code = s.scalar(select(Mapping.onet_code).where(Mapping.role_id == role_ids["Staff Accountant"]))
        assert code == "11-1011.00" and s.scalar(select(AuditEvent).where(AuditEvent.action == "adjudicate")) is None
    # The redrawn page shows the change and the fresh version is accepted.
    assert "The mapping changed since the sample was drawn: it is now 11\\-1011\\.00" in texts(at)
    at.button(key=f"adj_second_{accountant_item}").click().run()
    with session_factory(engine)() as s:
        assert (
            s.scalar(select(Mapping.onet_code).where(Mapping.role_id == role_ids["Staff Accountant"])) == "13-2011.00"
        )


def test_a_viewer_can_neither_code_nor_adjudicate(decided) -> None:
    engine, project_id, _ = decided
    _answered(engine, project_id)
    at = _as(VIEWER, "second_opinion", project_id)
    assert "you can read this project only" in texts(at)
    assert not [b for b in at.button if b.key and (b.key.startswith("blind_") or b.key.startswith("adj_"))]
