"""Alerts: what fired and why, your own rules (add, edit, disable, remove), and rules suggested by your
own pain log, each accepted with one click."""

from __future__ import annotations

import streamlit as st

from loadwatch.dashboard.app import ui
from loadwatch.ingest import store as store_mod
from loadwatch.metrics import rules as rules_mod
from loadwatch.metrics import units as units_mod

ui.page_start("Alerts")
ui.stale_note()
Rule = store_mod.Rule
METRICS = list(rules_mod.RULE_METRICS)
units = ui.settings().units

flash = st.session_state.pop("alerts_flash", None)
if flash:
    st.success(flash, icon=":material/check:")

report = ui.report() if not ui.activities().empty or not ui.pain().empty else {}

st.subheader("Alerts now")
alerts = report.get("alerts", [])
if not alerts:
    st.success("No alerts.", icon=":material/check:")
for alert in sorted(alerts, key=lambda a: not ui.is_red_flag(a)):
    ui.alert_box(alert, units)

st.subheader("Suggested from your own history")
suggested = report.get("suggested_rules", [])
if not suggested:
    st.caption("No suggestions yet: they need a few weeks of runs and pain entries to show a pattern.")
existing = {(r.metric, r.op, float(r.threshold), r.scope) for r in ui.rules()}
for i, sug in enumerate(suggested):
    with st.container(border=True):
        st.markdown(f"**{ui.rule_text(sug, units)}**")
        st.markdown(sug.get("text", ""))  # the counts behind it, from metrics.suggest
        st.caption(sug.get("evidence", ""))
        key = (sug["metric"], sug.get("op", ">"), float(sug["threshold"]), sug.get("scope", "week"))
        if key in existing:
            st.caption("Already one of your rules.")
        elif st.button("Accept this rule", key=f"accept_{i}", icon=":material/add_alert:"):
            with ui.open_store() as store:
                store.add_rule(Rule(id=None, metric=key[0], threshold=key[2], op=key[1], scope=key[3],
                                    enabled=True, label=sug.get("label", ""), origin="suggested"))
            st.session_state["alerts_flash"] = f"Added your rule: {ui.rule_text(sug, units)}"
            ui.changed()
            st.rerun()

st.subheader("Your own rules")
rules = ui.rules()
if not rules:
    st.caption("You have no rules of your own yet.")
for rule in rules:
    with st.container(border=True):
        c1, c2, c3 = st.columns([5, 2, 1])
        c1.markdown(("" if rule.enabled else "~~") + ui.rule_text(rule.__dict__, units)
                    + ("" if rule.enabled else "~~ (off)"))
        c1.caption(f"{'suggested from your history' if rule.origin == 'suggested' else 'your rule'}"
                   + (f" · {rule.label}" if rule.label else ""))
        on = c2.toggle("on", value=bool(rule.enabled), key=f"rule_on_{rule.id}")
        if on != bool(rule.enabled):
            with ui.open_store() as store:
                store.update_rule(rule.id, enabled=on)
            ui.changed()
            st.rerun()
        if c3.button("Remove", key=f"rule_rm_{rule.id}"):
            with ui.open_store() as store:
                store.remove_rule(rule.id)
            st.session_state["alerts_flash"] = "Rule removed."
            ui.changed()
            st.rerun()
        with st.expander("Edit"):
            with st.form(f"edit_rule_{rule.id}"):
                unit = ui.unit_label(units) if ui.is_distance_metric(rule.metric) else None
                shown = float(ui.to_units(rule.threshold, units)) if unit else float(rule.threshold)
                thr = st.number_input(f"Threshold{f' ({unit})' if unit else ''}", value=round(shown, 2),
                                      key=f"rule_thr_{rule.id}")
                thr_metric = units_mod.from_units(thr, units) if unit else thr
                label = st.text_input("Label", value=rule.label, key=f"rule_label_{rule.id}")
                if st.form_submit_button("Save"):
                    with ui.open_store() as store:
                        store.update_rule(rule.id, threshold=float(thr_metric), label=label)
                    st.session_state["alerts_flash"] = "Rule saved."
                    ui.changed()
                    st.rerun()

with st.expander("Add a rule of your own", expanded=not rules):
    with st.form("add_rule"):
        metric = st.selectbox("Alert me when", METRICS, format_func=ui.metric_label)
        op = st.selectbox("is", [">", ">=", "<", "<="])
        threshold = st.number_input(f"Threshold (distances in {ui.unit_label(units)}; times in minutes; "
                                    "changes in %)", value=0.0)
        label = st.text_input("Label (optional)")
        if st.form_submit_button("Add rule"):
            try:
                with ui.open_store() as store:
                    value = units_mod.from_units(threshold, units) if ui.is_distance_metric(metric) else threshold
                    store.add_rule(Rule(id=None, metric=metric, threshold=float(value), op=op, scope=rules_mod.RULE_METRICS[metric].scope,
                                        enabled=True, label=label, origin="user"))
            except ValueError as exc:
                st.error(str(exc))
            else:
                st.session_state["alerts_flash"] = "Rule added."
                ui.changed()
                st.rerun()

ui.disclaimer()
