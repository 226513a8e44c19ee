"""Pure rules: Erlang C against published values, the simulation against Erlang C, estimates, hours."""
from datetime import date, datetime, time
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gridcare.hall import rules

TZ = ZoneInfo("Asia/Shanghai")


# Published reference: the worked Erlang C example of callcentrehelper.com ("Erlang C formula – made
# simple", 100 calls in 30 minutes, 180 s average handling time, 20 s target), as reproduced with its
# figures in the CRAN package ErlangC 0.1.0 README
# (https://stat.ethz.ch/CRAN/web/packages/ErlangC/readme/README.html): 14 agents → traffic intensity 10,
# wait probability 0.1741319, service level 0.88835, ASA 7.83593701177724 s, occupancy 0.7142857;
# 11 agents (the first row of its search) → wait probability 0.6821182, service level 0.3896138;
# the fewest agents for 80 % in 20 s is 14.
@pytest.mark.parametrize("agents,pw,sl,asa", [
    (14, 0.1741319, 0.88835, 7.83593701177724),
    (11, 0.6821182, 0.3896138, None),
])
def test_erlang_c_matches_published_example(agents, pw, sl, asa):
    fig = rules.queue_figures(agents, arrivals_per_hour=200, service_minutes=3, target_seconds=20)
    assert fig.offered_load == pytest.approx(10.0)
    assert fig.probability_wait == pytest.approx(pw, abs=5e-7)
    assert fig.service_level == pytest.approx(sl, abs=5e-6)
    if asa is not None:
        assert fig.average_wait_seconds == pytest.approx(asa, rel=1e-9)
        assert fig.occupancy == pytest.approx(0.7142857, abs=1e-7)


def test_fewest_agents_for_published_target():
    assert rules.windows_needed(200, 3, 20, 0.8).windows == 14
    # one fewer does not meet it
    assert rules.queue_figures(13, 200, 3, 20).service_level < 0.8


# Textbook value (M/M/c with λ = 1/min, mean service 3 min, 5 servers): C(5, 3) = 0.2362 — e.g. the
# call-centre exercise at tutorsglobe.com/question/...-51714013.aspx; (A^c/c!)(c/(c-A)) / (Σ + same)
# = 10.125·2.5 / (16.375 + 25.3125) = 0.23615.
def test_erlang_c_textbook_value():
    assert rules.erlang_c(5, 3.0) == pytest.approx(0.23615, abs=5e-5)


def test_unstable_when_load_reaches_windows():
    fig = rules.queue_figures(3, arrivals_per_hour=20, service_minutes=10, target_seconds=600)
    assert fig.stable is False and fig.probability_wait is None and fig.service_level is None
    assert fig.average_wait_seconds is None
    assert rules.queue_figures(4, 20, 10, 600).stable is True


@pytest.mark.parametrize("lam,minutes,target,level", [(200, 3, 20, 0.8), (40, 10, 600, 0.8), (18, 10, 300, 0.9)])
def test_simulation_agrees_with_erlang_c(lam, minutes, target, level):
    fig = rules.windows_needed(lam, minutes, target, level)
    sim = rules.simulate_queue(fig.windows, lam, minutes, target, hours=3000, seed=20260101)
    assert sim.customers > 40_000
    assert sim.probability_wait == pytest.approx(fig.probability_wait, abs=0.03)
    assert sim.service_level == pytest.approx(fig.service_level, abs=0.03)
    assert sim.average_wait_seconds == pytest.approx(fig.average_wait_seconds, rel=0.08)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_the_default_simulation_is_within_a_few_percent_for_any_seed(seed):
    fig = rules.queue_figures(4, arrivals_per_hour=18, service_minutes=10, target_seconds=600)
    sim = rules.simulate_queue(4, 18, 10, 600, seed=seed)           # what `hall staffing --simulate` runs
    assert sim.average_wait_seconds == pytest.approx(fig.average_wait_seconds, rel=0.03)
    assert sim.probability_wait == pytest.approx(fig.probability_wait, abs=0.02)


def test_simulation_is_deterministic_for_a_seed():
    a = rules.simulate_queue(3, 15, 10, 600, hours=50, seed=5)
    b = rules.simulate_queue(3, 15, 10, 600, hours=50, seed=5)
    assert a == b


@settings(max_examples=60, deadline=None)
@given(lam=st.floats(1, 400), minutes=st.floats(0.5, 30), target=st.floats(0, 1800), level=st.floats(0.05, 0.99))
def test_windows_needed_is_the_fewest(lam, minutes, target, level):
    fig = rules.windows_needed(lam, minutes, target, level)
    assert fig.stable and fig.service_level >= level
    if fig.windows > 1:
        prev = rules.queue_figures(fig.windows - 1, lam, minutes, target)
        assert not prev.stable or prev.service_level < level


@settings(max_examples=60, deadline=None)
@given(c=st.integers(1, 60), load=st.floats(0.01, 59.9))
def test_erlang_c_is_a_probability_and_falls_with_more_windows(c, load):
    if load >= c:
        assert rules.erlang_c(c, load) == 1.0
        return
    p = rules.erlang_c(c, load)
    assert 0 <= p <= 1
    assert rules.erlang_c(c + 1, load) <= p + 1e-12


@pytest.mark.parametrize("bad", [(0, 10, 60), (-5, 10, 60), (10, 0, 60), (10, -1, 60), (10, 10, -1)])
def test_bad_rates_refused(bad):
    with pytest.raises(rules.RuleError):
        rules.queue_figures(2, *bad)


@pytest.mark.parametrize("text,value", [("0.8", 0.8), ("80", 0.8), ("95.5", 0.955), (0.5, 0.5)])
def test_service_level_fraction_or_percent(text, value):
    assert rules.parse_service_level(text) == pytest.approx(value)


@pytest.mark.parametrize("text", ["0", "-0.2", "1", "100", "150", "abc", "nan"])
def test_service_level_refused(text):
    with pytest.raises(rules.RuleError):
        rules.parse_service_level(text)


def test_estimate_wait():
    assert rules.estimate_wait_seconds(0, 0, 600, 0) is None
    assert rules.estimate_wait_seconds(0, 2, 600, 0) == 0          # a free window: no wait
    assert rules.estimate_wait_seconds(0, 2, 600, 2) == 200        # both busy: first frees after 600/3
    assert rules.estimate_wait_seconds(4, 2, 600, 2) == 1200 + 200
    assert rules.estimate_wait_seconds(3, 3, 300, 1) == 300 + 75


def test_estimate_error():
    out = rules.estimate_error([(600, 300), (300, 600), (100, 100), (None, 5)])
    assert out == {"count": 3, "bias_seconds": 0.0, "mae_seconds": 200.0, "within_5min": 1.0}


def test_opening_hours():
    hours = {"0": [["08:30", "12:00"], ["13:30", "17:30"]], "6": [["00:00", "24:00"]]}
    monday = date(2026, 3, 2)
    assert rules.is_open(hours, [], datetime.combine(monday, time(8, 30), TZ))
    assert not rules.is_open(hours, [], datetime.combine(monday, time(12, 30), TZ))
    assert not rules.is_open(hours, [], datetime.combine(monday, time(17, 30), TZ))
    assert not rules.is_open(hours, ["2026-03-02"], datetime.combine(monday, time(9), TZ))
    assert not rules.is_open(hours, [], datetime(2026, 3, 3, 9, tzinfo=TZ))     # Tuesday: not listed
    assert rules.is_open(hours, [], datetime(2026, 3, 8, 23, 59, tzinfo=TZ))    # Sunday round the clock
    assert rules.open_hours_of_day(hours, 0) == [8, 9, 10, 11, 13, 14, 15, 16, 17]
    assert len(rules.slots_of_day(hours, monday, 30)) == 7 + 8


def test_people_ahead_priority_then_order():
    t = [datetime(2026, 3, 2, 9, m, tzinfo=TZ) for m in range(5)]
    others = [(0, t[0]), (1, t[3]), (0, t[2]), (2, t[4])]
    assert rules.people_ahead(0, t[1], others) == 3    # t0 normal, and both priority tickets
    assert rules.people_ahead(1, t[1], others) == 1    # only the appointment


def test_forecast_reproduces_day_of_month_peak():
    counts = {}
    for month in (1, 2, 3):
        for day in range(1, 29):
            for hour in range(9, 17):
                counts[(date(2026, month, day), hour)] = 6 if 10 <= day <= 25 else 2
    fc = rules.forecast_month(counts, 2026, 4)
    assert len(fc) == 30
    assert sum(fc[date(2026, 4, 18)].values()) > 2.5 * sum(fc[date(2026, 4, 5)].values())
    assert set(fc[date(2026, 4, 18)]) == set(range(9, 17))
    assert sum(fc[date(2026, 4, 30)].values()) > 0    # a day of month without history: the mean level
    prof = rules.arrivals_profile(counts)
    assert prof["by_day_of_month"][18] == 48 and prof["by_day_of_month"][5] == 16


def test_staffing_plan_what_if_online():
    base = rules.staffing_plan({9: 40, 10: 40}, 10, 600, 0.8)
    moved = rules.staffing_plan({9: 40, 10: 40}, 10, 600, 0.8, online_share=0.9, payment_share=0.8)
    assert base[0]["windows"] == 8
    assert moved[0]["arrivals"] == pytest.approx(40 * (1 - 0.72))
    assert moved[0]["windows"] < base[0]["windows"]
