"""``loadwatch pain ...`` and ``loadwatch alerts ...`` (the store is isolated per test by conftest)."""

from __future__ import annotations

import csv
import io
import json

import pytest

from loadwatch.dashboard.cli.cmd_pain import parse_threshold
from loadwatch.dashboard.cli.main import main
from loadwatch.ingest.store import Store
from tests.helpers import cli as run  # run(capsys, *argv) -> (code, out, err)


def test_pain_add_list_edit_delete_export(capsys, tmp_path):
    code, out, _ = run(capsys, "pain", "add", "--date", "2025-03-10", "--score", "6", "--timing", "during",
                       "--note", "sore after 5 km")
    assert code == 0 and "logged pain entry 1: 6/10 during the run on Mon 10 Mar 2025 12:00" in out
    assert "above 5 out of 10 is too much. Stop running for now and cross-train instead" in out  # the alert's words
    code, out, _ = run(capsys, "pain", "add", "--date", "2025-03-11", "--score", "2", "--timing", "next-morning")
    assert code == 0 and "the next morning on Tue 11 Mar 2025 07:00" in out

    code, out, _ = run(capsys, "pain", "list", "--json")
    entries = json.loads(out)
    assert [(e["id"], e["score"], e["timing"], e["at_local"]) for e in entries] == [
        (1, 6, "during", "2025-03-10T12:00"), (2, 2, "next_morning", "2025-03-11T07:00")]

    code, out, _ = run(capsys, "pain", "edit", "1", "--score", "5", "--time", "18:30")
    assert code == 0 and "updated pain entry 1: date and time; pain score" in out  # words, not column names
    assert run(capsys, "pain", "delete", "2")[0] == 0
    code, out, _ = run(capsys, "pain", "list")
    assert "18:30" in out and "5/10" in out and "07:00" not in out

    path = tmp_path / "pain.csv"
    assert run(capsys, "pain", "export", "--csv", str(path))[0] == 0
    rows = list(csv.DictReader(path.open()))
    assert [(r["id"], r["score"], r["at_local"]) for r in rows] == [("1", "5", "2025-03-10T18:30")]
    code, out, _ = run(capsys, "pain", "export")
    assert list(csv.DictReader(io.StringIO(out)))[0]["note"] == "sore after 5 km"


def test_red_flag_symptom_prints_the_care_message_at_once(capsys):
    code, out, _ = run(capsys, "pain", "add", "--date", "2025-03-11", "--score", "3", "--symptom", "saddle_numbness",
                       "--symptom", "night-pain")
    assert code == 0
    assert "GET MEDICAL HELP NOW" in out and "A&E / emergency services" in out
    assert "SEE A CLINICIAN" in out and "within days" in out
    code, out, _ = run(capsys, "alerts", "check", "--as-of", "2025-03-12", "--json")
    payload = json.loads(out)
    assert payload["plan"]["status"] == "emergency" and payload["plan"]["max_week_km"] is None
    assert [a["rule"] for a in payload["alerts"]] == ["red_flag_emergency", "red_flag_urgent"]


@pytest.mark.parametrize("argv, words", [
    (["--score", "11"], "whole number from 0 to 10"),
    (["--score", "3", "--symptom", "foo"], "symptom must be one of"),
    (["--score", "3", "--timing", "lunch"], "timing must be one of"),
    (["--score", "3", "--location", "neck"], "location must be one of"),
])
def test_pain_add_rejects_bad_values_with_a_clear_message(capsys, argv, words):
    with pytest.raises(SystemExit) as exc:
        main(["pain", "add", "--date", "2025-03-11", *argv])
    assert exc.value.code == 2 and words in capsys.readouterr().err


def test_pain_add_unknown_run_and_missing_entry(capsys):
    code, _, err = run(capsys, "pain", "add", "--date", "2025-03-11", "--score", "3", "--run", "abc123")
    assert code == 1 and "no activity with id 'abc123'" in err
    code, _, err = run(capsys, "pain", "delete", "42")
    assert code == 1 and "no pain entry with id 42" in err


def test_parse_threshold_units():
    assert parse_threshold("32", "distance_km") == 32.0
    assert parse_threshold("20mi", "distance_km") == pytest.approx(32.18688)
    assert parse_threshold("32 km", "run_distance_km") == 32.0
    assert parse_threshold("20%", "spike_pct") == 20.0
    with pytest.raises(ValueError, match="measured in min"):
        parse_threshold("20mi", "duration_min")
    with pytest.raises(ValueError, match="must be a number"):
        parse_threshold("lots", "distance_km")


def test_alerts_add_list_disable_remove(capsys):
    code, out, _ = run(capsys, "alerts", "add", "--metric", "distance_km", "--above", "20mi", "--label", "cap")
    assert code == 0 and "added rule 1" in out
    assert run(capsys, "alerts", "add", "--metric", "run_distance_km", "--above", "18")[0] == 0
    assert run(capsys, "alerts", "add", "--metric", "runs", "--below", "2")[0] == 0
    code, _, err = run(capsys, "alerts", "add", "--metric", "weekly_km", "--above", "3")
    assert code == 1 and "valid metrics: distance_km" in err
    code, _, err = run(capsys, "alerts", "add", "--metric", "distance_km", "--above", "3", "--scope", "run")
    assert code == 1 and "scope must be 'week'" in err
    assert run(capsys, "alerts", "disable", "2")[0] == 0
    code, out, _ = run(capsys, "alerts", "list", "--json")
    rules = json.loads(out)
    assert [(r["id"], r["metric"], r["op"], r["scope"], r["enabled"], r["origin"]) for r in rules] == [
        (1, "distance_km", ">", "week", True, "user"), (2, "run_distance_km", ">", "run", False, "user"),
        (3, "runs", "<", "week", True, "user")]
    assert rules[0]["threshold"] == pytest.approx(32.18688) and rules[0]["label"] == "cap"
    assert run(capsys, "alerts", "remove", "3")[0] == 0
    code, out, _ = run(capsys, "alerts", "list")
    assert "weekly distance > 32.2 km" in out and "(disabled)" in out and "runs in the week" not in out


def test_alerts_suggest_on_an_empty_store_explains_why_not(capsys):
    code, out, _ = run(capsys, "alerts", "suggest", "--as-of", "2025-03-12")
    assert code == 0 and "no suggestions" in out
    code, out, _ = run(capsys, "alerts", "suggest", "--json")
    assert json.loads(out) == []
    code, _, err = run(capsys, "alerts", "suggest", "--accept", "1")
    assert code == 1 and "no suggestion number 1" in err


def test_alerts_suggest_accept_adds_a_suggested_rule(capsys, monkeypatch):
    sug = {"metric": "distance_km", "threshold": 35.0, "op": ">", "scope": "week", "flare_ups_above": 4,
           "flare_ups_total": 4, "pain_free_above": 0, "pain_free_total": 9, "label": "suggested: weekly distance",
           "text": "4 of your 4 flare-ups followed weeks with weekly distance above 35 km; 0 of 9 ..."}
    monkeypatch.setattr("loadwatch.dashboard.cli.cmd_pain._report", lambda store, as_of: {"suggested_rules": [sug]})
    code, out, _ = run(capsys, "alerts", "suggest")
    assert code == 0 and "1. 4 of your 4 flare-ups" in out and "--accept 1" in out
    code, out, _ = run(capsys, "alerts", "suggest", "--accept", "1")
    assert code == 0 and "added rule 1" in out
    with Store() as store:
        (rule,) = store.rules()
    assert (rule.metric, rule.threshold, rule.op, rule.origin) == ("distance_km", 35.0, ">", "suggested")


def test_alerts_check_in_words(capsys):
    run(capsys, "pain", "add", "--date", "2025-03-10", "--score", "4", "--timing", "after")
    code, out, _ = run(capsys, "alerts", "check", "--as-of", "2025-03-12")
    assert code == 0
    # plain words, no internal codes (issue 11): the phase, what moves it on, the rule in words
    assert "as of Wed 12 Mar 2025: caution" in out and "Hold steady since Mon 10 Mar 2025" in out
    # no run in the 7 days before: back pain, not "pain with running" (section 13, one voice)
    assert "[caution]" in out and "rule: back pain" in out and "no run in the 7 days before" in out
    assert "Back to normal training after 7 days without pain above 3" in out
    assert "How does your back feel today?" in out  # nothing logged on the 12th
    for code_word in ("pain_during_run", "pain_without_run", "AMBER", "hold)", "None", "nan"):
        assert code_word not in out
    assert "not a diagnosis" in out


@pytest.mark.parametrize("when", ["1900-05-01", "1989-12-31", "2999-01-01"])
def test_pain_dates_in_the_future_or_before_1990_are_refused(when, today, capsys):
    from datetime import timedelta

    from loadwatch.dashboard.cli.main import main

    with pytest.raises(SystemExit) as exc:
        main(["pain", "add", "--date", when, "--score", "3"])
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert ("after today" in err) if when > "2000" else ("before 1990" in err)
    tomorrow = (today + timedelta(days=2)).isoformat()
    with pytest.raises(SystemExit) as exc:
        main(["pain", "add", "--date", tomorrow, "--score", "3"])
    assert exc.value.code == 2
    assert main(["pain", "add", "--date", today.isoformat(), "--score", "3"]) == 0


def test_pain_list_is_an_aligned_table_in_words(capsys):
    from loadwatch.dashboard.cli.main import main

    main(["pain", "add", "--date", "2025-03-10", "--score", "6", "--timing", "rest_of_day", "--note", "x"])
    main(["pain", "add", "--date", "2025-03-11", "--score", "10", "--timing", "next_morning"])
    capsys.readouterr()
    assert main(["pain", "list"]) == 0
    out = capsys.readouterr().out
    assert "rest_of_day" not in out and "lower_back" not in out
    assert "Mon 10 Mar 2025" in out and "10/10" in out
    rows = [ln for ln in out.splitlines() if "Mar 2025" in ln]
    assert len({ln.index("Mar 2025") for ln in rows}) == 1  # the date column starts in one place
