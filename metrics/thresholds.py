"""Every clinical number loadwatch uses, in one documented place, each with its source.

The rules, numbers and references are written down in ``docs/evidence.md`` (its section numbers in
brackets).  Code never writes them inline: it imports the constant or takes it as a keyword argument whose
default is the constant, so a runner (or a physio) can change it.  Evidence strength labels follow
docs/evidence.md: strong, moderate, weak, consensus.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Evidence:
    """How strong the evidence is behind a rule, and where it comes from (one line for the UI)."""

    strength: str  # "strong" | "moderate" | "weak" | "consensus"
    source: str

    def line(self) -> str:
        return f"{self.strength} evidence: {self.source}"


#: The project's own page of rules, numbers and references: what every face cites.
EVIDENCE_DOC = "docs/evidence.md"

# --- Sources ---------------------------------------------------------------------------------------
FRANDSEN_2025 = Evidence(
    "strong",
    "Frandsen et al., Br J Sports Med 2025;59:1203-1210 (5,205 runners, 588,071 sessions): a run more "
    "than 10% longer than the longest of the previous 30 days raises injury risk",
)
WEEKLY_CHANGE_EVIDENCE = Evidence(
    "weak",
    "Buist et al., Am J Sports Med 2008 (10% rule: no fewer injuries); Nielsen et al., JOSPT 2014 (>30% "
    "weekly increase, HR 1.59, not significant)",
)
ACWR_EVIDENCE = Evidence(
    "weak",
    "Williams et al., BJSM 2017 (EWMA form); Gabbett, BJSM 2016 (bands from team sports); criticised by "
    "Lolli et al., BJSM 2019 and Impellizzeri et al., Sports Med 2021; in runners (Frandsen 2025) it did "
    "not predict injury",
)
MONOTONY_EVIDENCE = Evidence(
    "moderate", "Foster, Med Sci Sports Exerc 1998;30:1164 (team/endurance sports); the 2.0 flag is practice"
)
PAIN_MONITORING_EVIDENCE = Evidence(
    "moderate",
    "Silbernagel et al., Am J Sports Med 2007 pain-monitoring model (randomised, Achilles; consensus for "
    "the back): 0-3 green, 4-5 acceptable, above 5 too much; pain should settle by next morning and not "
    "rise week on week",
)
RED_FLAG_EVIDENCE = Evidence("consensus", "NICE NG59 and NICE CKS low back pain red flags")
PERSISTENT_PAIN_EVIDENCE = Evidence(
    "consensus",
    "back pain lasting more than 2-3 weeks or not responding to self-care should be seen by a professional "
    "(NICE NG59/CKS; NICE calls pain persistent after 6 weeks)",
)
CUTBACK_EVIDENCE = Evidence(
    "consensus",
    "cutback amounts are clinical defaults, not proven; Bosquet et al., MSSE 2007 (41-60% less volume for "
    "~2 weeks keeps fitness); Bushman et al., MSSE 1997 (cross-training kept 5-km performance)",
)
PERSONAL_RULE_EVIDENCE = Evidence(
    "personal", "your own rule, or a pattern in your own pain log (an association, not proof of cause)"
)

# --- [1] Days and history ---------------------------------------------------------------------------
DEFAULT_WEEK_START = "monday"

# --- [2] Single-session spike (strong) --------------------------------------------------------------
SPIKE_WINDOW_DAYS = 30
#: A run longer than (1 + this) x the 30-day longest is a spike; also the forward-looking safe cap.
MAX_SPIKE_FRAC = 0.10


@dataclass(frozen=True)
class SpikeCategory:
    name: str
    lower_pct: float  # exclusive lower bound of spike_pct
    upper_pct: float  # inclusive upper bound
    hazard_ratio: float
    ci_low: float
    ci_high: float


#: Frandsen 2025 categories: spike_pct = (distance / longest_30d - 1) * 100.
SPIKE_CATEGORIES: tuple[SpikeCategory, ...] = (
    SpikeCategory("none", float("-inf"), 10.0, 1.0, 1.0, 1.0),
    SpikeCategory("small", 10.0, 30.0, 1.64, 1.31, 2.05),
    SpikeCategory("moderate", 30.0, 100.0, 1.52, 1.16, 2.00),
    SpikeCategory("large", 100.0, float("inf"), 2.28, 1.50, 3.48),
)

# --- [3] Weekly change (weak: shown, not alarmed by default) ----------------------------------------
WEEKLY_CHANGE_INFO_PCT = 30.0  # Nielsen 2014 compared >30% with <10%

# --- [4] ACWR (weak: shown with its caveat) ----------------------------------------------------------
ACWR_ACUTE_DAYS = 7  # lambda = 2/(N+1) = 0.25
ACWR_CHRONIC_DAYS = 28  # lambda ~ 0.069
ACWR_SWEET_SPOT = (0.8, 1.3)  # Gabbett 2016, team sports
ACWR_DANGER = 1.5  # Gabbett 2016, team sports
ACWR_CAVEAT = (
    "The acute:chronic ratio comes from team sports and is disputed (Lolli 2019, Impellizzeri 2021); in "
    "runners it did not predict injury (Frandsen 2025). Shown for information only."
)

# --- [5] Monotony and strain (moderate) --------------------------------------------------------------
MONOTONY_CAP = 10.0  # SD = 0 with load > 0
MONOTONY_INFO = 2.0  # from practice, not from Foster's paper
MONOTONY_WINDOW_DAYS = 7  # Foster 1998: monotony and strain are computed over a week of daily loads

# --- [6] Load units ---------------------------------------------------------------------------------
#: Banister TRIMP weighting (Morton, Fitz-Clarke & Banister, J Appl Physiol 1990;69:1171).
TRIMP_COEFFICIENTS = {"male": (0.64, 1.92), "female": (0.86, 1.67)}
#: With sex "unspecified" loadwatch uses the mean of the two curves' coefficients (a loadwatch choice,
#: stated in the UI; it lies between the published ones).
TRIMP_COEFFICIENTS["unspecified"] = (
    (TRIMP_COEFFICIENTS["male"][0] + TRIMP_COEFFICIENTS["female"][0]) / 2,
    (TRIMP_COEFFICIENTS["male"][1] + TRIMP_COEFFICIENTS["female"][1]) / 2,
)
#: Default daily load (distance, as in Frandsen 2025) and the alternatives a caller may choose.
DEFAULT_LOAD_UNIT = "km"
LOAD_UNITS = ("km", "min", "trimp")
CTL_DAYS = 42  # fitness (Banister impulse-response, as in GoldenCheetah / TrainingPeaks)
ATL_DAYS = 7  # fatigue

# --- [7] Intensity ------------------------------------------------------------------------------------
#: Edwards heart-rate zones as fractions of HR_max: (name, lower inclusive, upper exclusive).
HR_ZONES = (("Z1", 0.50, 0.60), ("Z2", 0.60, 0.70), ("Z3", 0.70, 0.80), ("Z4", 0.80, 0.90), ("Z5", 0.90, 10.0))
INTENSITY_GROUPS = {"very_easy": (), "easy": ("Z1", "Z2"), "moderate": ("Z3",), "hard": ("Z4", "Z5")}
#: HR_max estimate when the runner gives none: this percentile of all recorded heart rate (robust to
#: spikes from a loose strap).
HR_MAX_ESTIMATE_PERCENTILE = 99.5
#: HR_rest estimate when none is given (only TRIMP needs it): a population default, labelled as such.
HR_REST_DEFAULT_BPM = 60.0

# --- [8] Surface ----------------------------------------------------------------------------------------
SURFACES = ("road", "trail", "track", "treadmill", "unknown")
SUB_SPORT_SURFACE = {"street": "road", "road": "road", "trail": "trail", "track": "track",
                     "treadmill": "treadmill", "indoor_running": "treadmill"}
SOFT_SURFACES = ("trail", "track", "treadmill")

# --- [10] Pain monitoring (moderate) ----------------------------------------------------------------
PAIN_GREEN_MAX = 3  # 0-3 green
PAIN_AMBER_MAX = 5  # 4-5 amber (acceptable); > 5 red
#: How loadwatch reads a pain log (docs/evidence.md section 10; consensus defaults).  A day without an entry is
#: unknown, never 0, and like is compared with like: next-morning scores with next-morning scores,
#: during / after / later-in-the-day scores together.
PAIN_TIMING_GROUPS = {"next_morning": "morning", "during": "run", "after": "run", "rest_of_day": "run"}
#: Next-morning pain is "not settled" when it is at least this many points above the runner's usual level.
PAIN_SETTLE_MARGIN = 2
#: The usual morning level: median of the logged next-morning scores over this many days before the day,
#: outside a pain episode ...
PAIN_BASELINE_DAYS = 28
#: ... from at least this many entries; with fewer there is no usual level, and then a morning score
#: above :data:`PAIN_SETTLE_NO_BASELINE_MAX` is "not settled".
PAIN_BASELINE_MIN_ENTRIES = 3
PAIN_SETTLE_NO_BASELINE_MAX = 3
#: A next-morning score above this is red and stops running ([13]).
PAIN_MORNING_RED_MAX = 5
#: Pain rising: the weekly mean of one timing group rises by at least this many points ...
PAIN_RISING_MARGIN = 1.5
#: ... with at least this many entries of that group in both weeks.
PAIN_RISING_MIN_ENTRIES = 2

# --- [11] Red flags (consensus; NICE NG59 / CKS) -----------------------------------------------------
EMERGENCY_SYMPTOMS = ("both_legs", "saddle_numbness", "bladder_bowel")
URGENT_SYMPTOMS = ("radiating_below_knee", "numbness_one_leg", "weakness_leg", "fever_unwell", "night_pain",
                   "trauma", "weight_loss")
#: Persistent pain ([10], revised): check-ins above the runner's usual level (above
#: :data:`PERSISTENT_NO_USUAL_MAX` without one; never at or below :data:`STOP_CLEAR_MAX_SCORE`) at this
#: fraction or more of the check-ins of one timing group (mornings, or during/after runs: like with like, so
#: logging pain-free mornings or not gives the same answer) ...
PERSISTENT_PAIN_DAY_FRAC = 2 / 3
#: ... over more than this many days (seed: "longer than two to three weeks"), with at least one check-in
#: of that group in each of those weeks ...
PERSISTENT_PAIN_DAYS = 21
#: ... and not improving: the mean of the stretch's last 7 days is not this many points or more below the
#: mean of its first 7 days.  Persistent pain is a referral, not a red flag: it holds the plan where it is
#: (no next step, the caps kept) and removes no number; it closes with an assessment or after
#: :data:`EPISODE_CLEAR_DAYS` days back at the usual level.
PERSISTENT_IMPROVING_POINTS = 1.0
PERSISTENT_NO_USUAL_MAX = 3
#: Pain on a day without a run in this many days before it (that day included) is not "pain with running"
#: ([13] "one voice").
PAIN_RUN_DAYS = 7
#: After an assessment, the assessed symptom logged again is known; it reopens an escalation only at this
#: many points or more above the score the clinician saw ([11] "what reopens").
REOPEN_MARGIN = 2

# --- [12] Cutbacks (consensus) -----------------------------------------------------------------------
CUTBACK_RED_FRAC = 0.5  # Bosquet 2007: 41-60% less volume; "about half"
AVERAGE_WEEK_WEEKS = 4  # hold volume at or below the 4-week average week
RETURN_PAIN_MAX = 3  # progress only while pain stays <= 3 and settles overnight

# --- [12] A plan holds for its 7 days; rounding ------------------------------------------------------
#: The run cap is 1.10 x the longest run of this many days: the runs the 30-day window still holds on the
#: plan's seventh day, so following the plan never produces a spike alert.
PLAN_DAYS = 7
PLAN_LONGEST_DAYS = SPIKE_WINDOW_DAYS - PLAN_DAYS
#: Caps are rounded down in steps no coarser than this fraction of the value ...
ROUND_MAX_FRAC = 0.05
#: ... taken from these steps (km or mi); 0.1 for short runs.
ROUND_STEPS = (0.1, 0.5, 1.0, 5.0, 10.0)

# --- [13] Episodes: phases and their numbers (consensus; amounts are defaults, not proven) -----------
EPISODE_EVIDENCE = Evidence(
    "consensus",
    "back pain as an episode (Silbernagel 2007 pain monitoring; NICE NG59 red flags stay until assessed; "
    "Bosquet 2007 cutback; Daniels' Running Formula after time off; " + EVIDENCE_DOC + " section 13)",
)
#: hold / reduce leave after this many days without pain above 3 (reduce: and mornings settled) ...
EPISODE_CLEAR_DAYS = 7
#: ``stop`` leaves after this many check-ins on different days with pain at or below ...
STOP_CLEAR_CHECKINS = 2
#: ... this score ("until walking is pain-free").
STOP_CLEAR_MAX_SCORE = 2
#: Every return_to_run / rebuild step lasts at least this many days.
STEP_MIN_DAYS = 7
#: return_to_run: week <= these fractions of the pre-episode 4-week average week ...
RETURN_WEEK_FRACS = (0.30, 0.50, 0.70, 0.90)
#: ... and longest run <= these fractions of the pre-episode 30-day longest run.
RETURN_RUN_FRACS = (0.35, 0.50, 0.70, 0.90)
#: "Pre-episode": the 4 weeks (28 days) before the day the episode started, and the longest run of the 30
#: days before it.
PRE_EPISODE_DAYS = 28
#: rebuild after a break: no run in this many days (Frandsen cannot compute a spike) ...
REBUILD_GAP_DAYS = SPIKE_WINDOW_DAYS
#: ... steps of the pre-break week and longest run (Daniels: about half after weeks off) ...
REBUILD_FRACS = (0.50, 0.70, 0.90)
#: ... with this step first after a break of this many days or more (about a third after two months).
REBUILD_LONG_BREAK_DAYS = 56
REBUILD_LONG_BREAK_FIRST_FRAC = 0.33
#: A rebuild stuck on one step by runs above it (one in the last 7 days) also ends once that running is a
#: training history again: this many days on the step (the "4 weeks" SCIENCE.md section 13 takes as a
#: runner's load, which also fill Frandsen's 30-day window, section 2), a run in each of their weeks and no
#: pain above green in them.  Runs above the step keep their over-run alerts; from then on the 30-day spike
#: rule judges each run (no dead end).  A runner inside the caps goes up the steps.  A rebuild with no run
#: for :data:`REBUILD_GAP_DAYS` starts again from that latest break.
REBUILD_HISTORY_DAYS = PRE_EPISODE_DAYS
#: rebuild and return_to_run: caps never go below what a person can run: a run of 2 km (about 20 min of
#: walk-run) and a week of three such runs ([13] "never below a floor a person can run").
STEP_FLOOR_RUN_KM = 2.0
STEP_FLOOR_WEEK_RUNS = 3
#: rebuild: the first step's run cap is at least the floor; as many runs a week as before the break, and
#: at least :data:`STEP_FLOOR_WEEK_RUNS`.
#: Advancing a return_to_run / rebuild step needs at least this many runs in it, none above the step's run
#: cap and no 7 days above its week cap ([13]).
STEP_MIN_RUNS = 2
#: A run or a week counts as above a cap only past this tolerance [km] (caps are shown rounded down).
CAP_TOLERANCE_KM = 0.05
#: reduce: about half the pre-episode week (Bosquet 2007) and half its 30-day longest run.
REDUCE_FRAC = 0.5
#: stop: cross-training minutes replace at most this fraction of the pre-episode weekly running time ...
STOP_CROSS_TRAINING_FRAC = 0.5
#: ... and never more than this many minutes a week, pain-free only ([13] "caps a person can follow").
STOP_CROSS_TRAINING_MAX_MIN = 300.0

NOT_MEDICAL_ADVICE = (
    "loadwatch gives training information, not a diagnosis or medical advice. If pain persists, worsens or "
    "worries you, see a physiotherapist or doctor."
)


def spike_category(spike_pct: float) -> SpikeCategory | None:
    """The Frandsen 2025 category for ``spike_pct`` [%]; None for NaN (not enough history)."""
    if spike_pct != spike_pct:  # NaN
        return None
    for cat in SPIKE_CATEGORIES:
        if cat.lower_pct < spike_pct <= cat.upper_pct:
            return cat
    raise AssertionError("categories cover the real line")


# --- Alerts, plan and suggested rules (issue 5) ----------------------------------------------------
#: Alerts look back this many days from ``as_of`` (runs, pain entries, weeks that end in the window).
#: A loadwatch heuristic: two weeks keeps a spike or a pain episode in view while its cutback applies.
ALERT_LOOKBACK_DAYS = 14
#: Red flags have no lookback window any more: an escalation stays until an assessment ([11], [13]).
#: Persistent pain [10, 11]: a stretch of pain ends when this many days pass without a painful check-in
#: (a week without one is a pain-free week, or one without a check-in).
PERSISTENT_EPISODE_GAP_DAYS = 7
#: Plan, green status: the week may grow to (1 + this) x the biggest of the last 4 complete weeks.
#: A default ceiling only; the 10% rule itself is weak evidence [3] and loadwatch never alarms on it.
GREEN_WEEK_GROWTH_FRAC = 0.10
#: Plan, red status: the number of runs in the week is at most this (a rest day between runs, [12]).
RED_MAX_RUNS_PER_WEEK = 3
#: A pain flare-up (for suggested rules): a week whose highest score is at least this (amber or red,
#: [10]), or that holds a morning when pain had not settled.
FLARE_UP_MIN_SCORE = PAIN_GREEN_MAX + 1
#: Suggested rules [14]: only offered when the runner's own history has at least this many flare-ups ...
SUGGEST_MIN_FLARE_UPS = 4
#: ... at least this many of them after weeks above the suggested threshold [14] ...
SUGGEST_MIN_FLARE_UPS_ABOVE = 3
#: ... at least this many pain-free weeks to compare with (loadwatch heuristic) ...
SUGGEST_MIN_PAIN_FREE_WEEKS = 6
#: ... and a permutation test [14]: shuffle which weeks had a flare-up this many times; the statistic is
#: the largest Youden's J over every candidate metric and threshold, so the test pays for the search ...
SUGGEST_PERMUTATIONS = 1000
#: ... and the pattern must be this unlikely to be chance (p < 0.05) [14].
SUGGEST_MAX_P = 0.05
#: Seed of the shuffles: the same history always gives the same suggestions.
SUGGEST_SEED = 20_260_601
#: At most this many suggestions are shown at once (the strongest first).
SUGGEST_MAX = 3
SUGGEST_EVIDENCE = Evidence(
    "personal",
    "a pattern in your own training and pain log, unlikely to be chance (at least 4 flare-ups, 3 of them "
    "after weeks above the threshold; a permutation test over every metric and threshold tried, p < 0.05); "
    "an association, not proof of cause",
)
