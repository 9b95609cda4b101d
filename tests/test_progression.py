"""The progression rule on synthetic histories: success high but not perfect.

Default rule: success (reps over reps + partial reps) above 90% raises the
target 5%, below 70% lowers it 10%, in between (edges included) keeps it;
fewer than 5 attempts change nothing; limits always hold. Between sessions
the last session's starting target moves by the whole session's success.
"""
from __future__ import annotations

import pytest

from openpuck.clinic.progression import (
    NoHistory,
    ProgressionRule,
    SetResult,
    decide,
    good_sessions,
    next_target,
    session_target,
    sessions,
    success_rate,
    unlocked,
)
from openpuck.offline.validate import InvalidValue

GRIP = ProgressionRule(min_target=5.0, max_target=40.0)


def session_of(n: int, target: float, *sets: tuple[int, int]) -> list[SetResult]:
    """Session ``n``: sets of (reps, partial reps) at ``target`` (moved set by set as a runner would)."""
    out, t = [], target
    for reps, partials in sets:
        out.append(SetResult(session=n, target=t, reps=reps, partial_reps=partials, started_at=n * 86400.0))
        t = next_target(t, reps, partials, GRIP)
    return out


def run_sessions(first_target: float, n_sessions: int, sets: list[tuple[int, int]],
                 rule: ProgressionRule = GRIP) -> list[float]:
    """Each session's starting target, for a patient whose every session goes as ``sets``."""
    history: list[SetResult] = []
    starts = []
    for n in range(n_sessions):
        start = session_target(history, rule, default=first_target)
        starts.append(start)
        history += session_of(n, start, *sets)
    return starts


# --- within a session: the next set ---

def test_a_perfect_set_raises_the_next_target_by_five_percent():
    assert next_target(20.0, 10, 0, GRIP) == 21.0


def test_a_set_with_most_attempts_short_lowers_it_by_ten_percent():
    assert next_target(20.0, 6, 4, GRIP) == 18.0


@pytest.mark.parametrize("reps, partials", [(7, 3), (8, 2), (9, 1)])
def test_success_from_70_to_90_percent_keeps_the_target(reps, partials):
    assert next_target(20.0, reps, partials, GRIP) == 20.0


@pytest.mark.parametrize("reps, partials, decision", [
    (10, 0, "up"), (19, 1, "up"),          # 100%, 95%: too easy
    (9, 1, "stay"), (7, 3, "stay"),        # the band's edges are in it
    (13, 7, "down"), (0, 10, "down"),      # 65%, 0%
    (4, 0, "too_few"), (0, 4, "too_few"),  # under 5 attempts: no evidence
])
def test_the_decision_at_and_around_the_band(reps, partials, decision):
    assert decide(reps, partials, GRIP) == decision


def test_too_few_attempts_change_nothing():
    assert next_target(20.0, 2, 0, GRIP) == 20.0
    assert next_target(20.0, 0, 3, GRIP) == 20.0


def test_the_target_never_leaves_the_limits():
    assert next_target(39.0, 10, 0, GRIP) == 40.0     # 40.95 capped
    assert next_target(5.2, 0, 10, GRIP) == 5.0       # 4.68 floored
    assert next_target(60.0, 8, 2, GRIP) == 40.0      # a current target outside is brought in
    assert next_target(2.0, 2, 0, GRIP) == 5.0


def test_success_rate_is_reps_over_attempts():
    assert success_rate(8, 2) == 0.8
    assert success_rate(0, 0) is None


def test_a_set_that_failed_then_lowered_then_hit_the_band_settles():
    t = 30.0
    t = next_target(t, 3, 7, GRIP)    # 30%: down
    t = next_target(t, 8, 2, GRIP)    # 80%: stay
    assert t == 27.0


def test_nonsense_counts_are_refused():
    with pytest.raises(InvalidValue, match="reps must be a whole number of at least 0, got -1"):
        next_target(20.0, -1, 0, GRIP)
    with pytest.raises(InvalidValue, match="current target must be more than 0"):
        next_target(0.0, 10, 0, GRIP)


# --- between sessions: synthetic patients ---

def test_a_patient_who_always_succeeds_sees_the_target_rise_to_the_limit_and_stay():
    starts = run_sessions(20.0, 25, [(10, 0)] * 3)
    assert starts[:4] == [20.0, 21.0, 22.05, 23.1525]
    assert all(b > a for a, b in zip(starts, starts[1:15]))   # 5% a session...
    assert starts[-1] == 40.0 and starts[-5:] == [40.0] * 5    # ...up to max_target, then held


def test_a_patient_who_always_fails_sees_the_target_fall_to_the_floor_and_stay():
    starts = run_sessions(20.0, 20, [(3, 7)] * 3)
    assert starts[:3] == [20.0, 18.0, 16.2]
    assert all(b < a for a, b in zip(starts, starts[1:10]))
    assert starts[-5:] == [5.0] * 5


def test_a_patient_in_the_band_keeps_the_same_target():
    assert run_sessions(20.0, 10, [(8, 2), (9, 1), (7, 3)]) == [20.0] * 10


def test_fatigue_late_in_a_session_does_not_carry_over():
    # two perfect sets then a tired one: the sets went 20, 21, 22.05, but the
    # session as a whole was 24 of 30 (80%): the next session starts at 20 again
    history = session_of(0, 20.0, (10, 0), (10, 0), (4, 6))
    assert [s.target for s in history] == [20.0, 21.0, 22.05]
    assert session_target(history, GRIP) == 20.0


def test_the_next_session_moves_by_the_whole_sessions_success():
    history = session_of(0, 20.0, (10, 0), (10, 0), (10, 0))
    assert session_target(history, GRIP) == 21.0
    history += session_of(1, 21.0, (5, 5), (6, 4), (7, 3))     # 60%
    assert session_target(history, GRIP) == 18.9


def test_a_patient_with_a_steady_ability_ends_in_the_band():
    # the patient's reps peak at these forces, the same every set; a rep
    # reaches the target when its peak is at or above it
    peaks = [14.0, 15.0, 16.0, 17.0, 18.0, 19.0, 20.0, 21.0, 22.0, 24.0]
    history: list[SetResult] = []
    for n in range(30):
        target = session_target(history, GRIP, default=10.0)
        for _ in range(3):
            reps = sum(p >= target for p in peaks)
            history.append(SetResult(n, target, reps, len(peaks) - reps))
    last = sessions(history)[-1]
    assert GRIP.success_low <= last.success_rate <= GRIP.success_high
    assert 14.0 < last.start_target <= 17.0      # where 9 down to 7 of these 10 peaks reach it


def test_a_patient_who_gets_stronger_is_followed_up():
    peaks = [14.0, 15.0, 16.0, 17.0, 18.0, 19.0, 20.0, 21.0, 22.0, 24.0]
    history: list[SetResult] = []
    for n in range(40):
        target = session_target(history, GRIP, default=15.0)
        stronger = [p * (1 + 0.01 * n) for p in peaks]          # 1% a session
        reps = sum(p >= target for p in stronger)
        history.append(SetResult(n, target, reps, len(peaks) - reps))
    last = sessions(history)[-1]
    assert last.start_target > 19.0                              # 14..17 at the start
    assert GRIP.success_low <= last.success_rate <= 1.0


def test_the_first_session_takes_the_default_within_the_limits():
    assert session_target([], GRIP, default=25.0) == 25.0
    assert session_target([], GRIP, default=90.0) == 40.0


def test_with_no_history_and_no_default_it_says_what_to_give():
    with pytest.raises(NoHistory, match="give a default target"):
        session_target([], GRIP)


def test_sets_whose_auto_target_was_never_learned_are_left_out():
    history = [SetResult(0, None, 10, 0), SetResult(0, 20.0, 10, 0), SetResult(1, None, 0, 10)]
    assert session_target(history, GRIP) == 21.0      # session 1 had no target: session 0 decides


# --- unlocking the next exercise ---

def good(n: int) -> list[SetResult]:
    return [SetResult(n, 20.0, 8, 2), SetResult(n, 20.0, 9, 1)]       # 85%: in the band


def perfect(n: int) -> list[SetResult]:
    return [SetResult(n, 20.0, 10, 0)]


def poor(n: int) -> list[SetResult]:
    return [SetResult(n, 20.0, 5, 5)]


def test_the_next_exercise_opens_after_three_sessions_in_or_above_the_band():
    assert not unlocked(good(0) + perfect(1), GRIP)
    assert unlocked(good(0) + perfect(1) + good(2), GRIP)


def test_sessions_below_the_band_do_not_count_and_need_not_be_in_a_row():
    history = good(0) + poor(1) + good(2) + poor(3)
    assert good_sessions(history, GRIP) == 2 and not unlocked(history, GRIP)
    assert unlocked(history + good(4), GRIP)


def test_once_open_it_stays_open_after_a_bad_session():
    assert unlocked(good(0) + good(1) + good(2) + poor(3) + poor(4), GRIP)


def test_sessions_with_too_few_attempts_do_not_count():
    tiny = [SetResult(n, 20.0, 3, 0) for n in range(5)]     # 100%, but 3 attempts each
    assert good_sessions(tiny, GRIP) == 0


def test_the_rule_says_how_many_sessions_unlock():
    rule = ProgressionRule(unlock_sessions=1)
    assert unlocked(good(0), rule)
    assert not unlocked([], rule)


def test_a_session_is_judged_on_all_its_sets_together():
    # 10/10 then 4/10: 70% together, in the band
    assert good_sessions([SetResult(0, 20.0, 10, 0), SetResult(0, 22.0, 4, 6)], GRIP) == 1


# --- the rule itself ---

def test_the_defaults_are_the_documented_band():
    r = ProgressionRule()
    assert (r.success_low, r.success_high, r.step_up, r.step_down, r.unlock_sessions, r.min_attempts) == \
        (0.7, 0.9, 0.05, 0.10, 3, 5)


@pytest.mark.parametrize("kwargs, message", [
    (dict(success_low=0.9, success_high=0.7), "success_low must be below success_high, got 0.9 and 0.7"),
    (dict(success_high=1.2), "success_high must be more than 0 and at most 1, got 1.2"),
    (dict(step_down=1.0), "step_down must be between 0 and 0.9, got 1.0"),
    (dict(min_target=30.0, max_target=20.0), "min_target must be at most max_target, got 30 and 20"),
    (dict(unlock_sessions=0), "unlock_sessions must be a whole number from 1 to 1000, got 0"),
    (dict(min_attempts=2.5), "min_attempts must be a whole number from 1 to 1000, got 2.5"),
])
def test_a_rule_that_cannot_work_is_refused_by_name(kwargs, message):
    with pytest.raises(InvalidValue) as e:
        ProgressionRule(**kwargs)
    assert str(e.value) == message
