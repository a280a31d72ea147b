"""Whose leave goes where: chains matched by post (the heads of the bodies, the party secretary),
and a request whose requester would approve it themselves (route_self) — never the fallback."""

from __future__ import annotations

import dataclasses

import pytest

from bot.config import LeavePolicy
from bot.domain.leave_chains import LeaveChain, LeaveStep, Route, SelfApproval, approval_chain_for, route_self, select
from bot.domain.members import Member, Role

CHAINS = LeavePolicy().chains
POSTS = {"party_secretary": (6,), "district_head": (4,), "congress_head": (9,), "cppcc_head": (11,)}


def member(mid: int, unit: str, role: str) -> Member:
    return Member(id=mid, telegram_id=mid, name=f"m{mid}", unit_code=unit, roles=frozenset({Role(role)}))


PEOPLE = [member(4, "zhengfu", "leader"), member(5, "zhengfu", "leader"), member(6, "quwei", "leader"),
          member(9, "renda", "leader"), member(11, "zhengxie", "leader"), member(3, "zhengfu", "director")]


def held(m: Member) -> set[str]:
    return {name for name, ids in POSTS.items() if m.id in ids}


def approvers_for(requester: Member):  # type: ignore[no-untyped-def]
    return lambda step: {m.id for m in select(step.who, requester.unit_code, PEOPLE, POSTS)}


@pytest.mark.parametrize(("mid", "unit", "chain"), [
    (4, "zhengfu", "body_heads"),  # 区长
    (9, "renda", "body_heads"),  # 人大主任
    (11, "zhengxie", "body_heads"),  # 政协主席
    (6, "quwei", "party_secretary"),  # 区委书记
    (5, "zhengfu", "zhengfu"),  # 副区长: asks the 区长
])
def test_heads_and_the_party_secretary_report_by_post(mid: int, unit: str, chain: str) -> None:
    m = member(mid, unit, "leader")
    found = approval_chain_for(m, "office", CHAINS, held(m))
    assert found is not None and found.name == chain
    way = route_self(found, CHAINS, m.id, approvers_for(m))
    assert way.chain.name == chain
    if chain in ("body_heads", "party_secretary"):
        assert way.chain.mode == "report" and not way.chain.steps  # nobody approves it
        assert ("post:party_secretary" in way.chain.notify) is (chain == "body_heads")


@pytest.mark.parametrize(("mid", "unit", "via", "to"), [
    (4, "zhengfu", "zhengfu", "body_heads"),
    (9, "renda", "renda", "body_heads"),
    (11, "zhengxie", "zhengxie", "body_heads"),
    (6, "quwei", "committee", "party_secretary"),
])
def test_a_head_asking_under_their_own_body_goes_where_the_step_says(mid: int, unit: str, via: str, to: str) -> None:
    """Without the post chains in front (a config that lists them later), the body's own step would
    have the head approve themselves: `on_self` sends the request on, never to the fallback."""
    m = member(mid, unit, "leader")
    chains = [c for c in CHAINS if c.name != to] + [c for c in CHAINS if c.name == to]
    found = approval_chain_for(m, "office", chains)  # posts unknown: matched by role and unit
    assert found is not None and found.name == via
    assert route_self(found, chains, m.id, approvers_for(m)) == Route(next(c for c in chains if c.name == to),
                                                                      (), (via,))


def _chain(name: str, *steps: LeaveStep) -> LeaveChain:
    return LeaveChain(name=name, steps=steps)


def test_own_step_without_on_self_is_left_out_or_refused() -> None:
    me = member(4, "zhengfu", "leader")
    two = _chain("two", LeaveStep("区长审批", ("post:district_head",)),
                 LeaveStep("区委书记审批", ("post:party_secretary",)))
    assert route_self(two, [two], me.id, approvers_for(me)) == Route(two, (0,), ())
    alone = _chain("alone", LeaveStep("区长审批", ("post:district_head",)))
    with pytest.raises(SelfApproval):
        route_self(alone, [alone], me.id, approvers_for(me))


def test_on_self_loops_and_unknown_names_are_refused() -> None:
    me = member(4, "zhengfu", "leader")
    a = _chain("a", LeaveStep("x", ("post:district_head",), on_self="b"))
    b = _chain("b", LeaveStep("y", ("post:district_head",), on_self="a"))
    with pytest.raises(SelfApproval):
        route_self(a, [a, b], me.id, approvers_for(me))
    lost = _chain("lost", LeaveStep("x", ("post:district_head",), on_self="gone"))
    with pytest.raises(SelfApproval):
        route_self(lost, [lost], me.id, approvers_for(me))


def test_someone_else_approving_is_untouched() -> None:
    vice = member(5, "zhengfu", "leader")
    chain = next(c for c in CHAINS if c.name == "zhengfu")
    assert route_self(chain, CHAINS, vice.id, approvers_for(vice)) == Route(chain)


def test_config_refuses_report_chains_with_steps_and_unknown_on_self() -> None:
    from bot.config import ConfigError, loads

    with pytest.raises(ConfigError, match="no approval steps"):
        loads('[[leave.chains]]\nname = "x"\nmode = "report"\nsteps = [{ label = "a", who = ["role:director"] }]\n')
    with pytest.raises(ConfigError, match="no chain named"):
        loads('[[leave.chains]]\nname = "x"\nsteps = [{ label = "a", who = ["role:director"], on_self = "y" }]\n')
    with pytest.raises(ConfigError, match="unknown post"):
        loads('[[leave.chains]]\nname = "x"\nmode = "report"\nposts = ["king"]\n')
    policy = dataclasses.replace(LeavePolicy())
    assert [c.name for c in policy.chains[:2]] == ["body_heads", "party_secretary"]
