"""Approval chains of leave as plain rules: which chain a requester's leave goes through, who a
step's selectors name, stand-ins for approvers away, how a step is decided, and what happens when
the requester would approve their own request (the head of a body asking under their own body).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum

from bot.domain.members import Member


@dataclass(frozen=True)
class LeaveStep:
    """One approval step: who may act (selectors, see bot/domain/leave.py) and whether any or all must."""

    label: str
    who: tuple[str, ...]
    mode: str = "any"  # any | all
    # When the requester is among this step's approvers (the 区长 asking under 区政府领导): the name of the
    # chain the request goes through instead; "" = skip this step. Never the generic fallback.
    on_self: str = ""


@dataclass(frozen=True)
class LeaveChain:
    """Whose requests it covers (empty = anyone) and the steps they go through; first match wins."""

    name: str
    label: str = ""
    roles: tuple[str, ...] = ()
    unit_kinds: tuple[str, ...] = ()
    units: tuple[str, ...] = ()
    posts: tuple[str, ...] = ()  # the requester holds one of these [[leave.posts]] (区长, 区委书记 …)
    steps: tuple[LeaveStep, ...] = ()
    notify: tuple[str, ...] = ()  # told of the approval (or the report), never asked
    # "request": approved step by step; "report": a written report (书面报告) in effect at once — told
    # to `notify` and archived by the office, approved by nobody (the heads of the leadership bodies).
    mode: str = "request"
    notify_chats: tuple[int, ...] = ()  # also told: Telegram chats outside the bot's members (an upstream office)


class Decision(StrEnum):
    APPROVED = "approved"
    REFUSED = "refused"


class SelfApproval(ValueError):
    """Every step of the chain would have the requester approve their own request, and no step says
    where such a request goes instead (`on_self`): refused, never sent to the generic fallback."""


@dataclass(frozen=True)
class Selector:
    """`member:12`, `role:director`, `role:director@office`, `role:unit_head@own`, `post:district_head`."""

    kind: str
    value: str
    unit: str | None = None


_SELECTOR = re.compile(r"^(member|role|post):([a-z0-9_]+)(?:@([a-z][a-z0-9_]*))?$")


def parse_selector(text: str) -> Selector:
    m = _SELECTOR.match(text.strip())
    if not m or (m.group(3) and m.group(1) != "role"):
        raise ValueError(f"bad approver {text!r}:"
                         " write member:12, role:director@office, role:unit_head@own or post:name")
    if m.group(1) == "member" and not m.group(2).isdigit():
        raise ValueError(f"bad member number in {text!r}")
    return Selector(m.group(1), m.group(2), m.group(3))


def approval_chain_for(member: Member, unit_kind: str, chains: Sequence[LeaveChain],
                       held_posts: Iterable[str] = ()) -> LeaveChain | None:
    """The first chain whose requester posts, roles, unit kinds and units all match (empty = any)."""
    held = set(held_posts)
    for chain in chains:
        if chain.posts and not held & set(chain.posts):
            continue
        if chain.roles and not {r.value for r in member.roles} & set(chain.roles):
            continue
        if chain.unit_kinds and unit_kind not in chain.unit_kinds:
            continue
        if chain.units and member.unit_code not in chain.units:
            continue
        return chain
    return None


@dataclass(frozen=True)
class Approver:
    member_id: int
    on_behalf_of: int | None = None  # the approver on leave this one stands in for


def select(selectors: Iterable[str], requester_unit: str, people: Sequence[Member],
           posts: Mapping[str, Iterable[int]]) -> list[Member]:
    """Active members named by the selectors, in order, without repeats."""
    by_id = {m.id: m for m in people if m.active}
    out: dict[int, Member] = {}
    for text in selectors:
        sel = parse_selector(text)
        if sel.kind == "member":
            found = [by_id[int(sel.value)]] if int(sel.value) in by_id else []
        elif sel.kind == "post":
            found = [by_id[i] for i in posts.get(sel.value, ()) if i in by_id]
        else:
            unit = requester_unit if sel.unit == "own" else sel.unit
            found = [m for m in by_id.values()
                     if any(r.value == sel.value for r in m.roles) and (unit is None or m.unit_code == unit)]
        for m in found:
            out.setdefault(m.id, m)
    return list(out.values())


def with_standins(people: Iterable[Member], away: Mapping[int, int | None],
                  exclude: Iterable[int] = ()) -> list[Approver]:
    """Whoever is away on approved leave is replaced by their stand-in (or dropped without one)."""
    skip = set(exclude)
    out: dict[int, Approver] = {}
    for m in people:
        if m.id in away:
            stand_in = away[m.id]
            if stand_in is None or stand_in in away or stand_in in skip:
                continue
            out.setdefault(stand_in, Approver(stand_in, m.id))
        elif m.id not in skip:
            out.setdefault(m.id, Approver(m.id))
    return list(out.values())


def step_outcome(mode: str, decisions: Sequence[str | None]) -> Decision | None:
    """`any`: the first decision decides; `all`: one refusal refuses, every approval approves."""
    made = [d for d in decisions if d is not None]
    if Decision.REFUSED in made:
        return Decision.REFUSED
    if mode == "all":
        return Decision.APPROVED if decisions and len(made) == len(decisions) else None
    return Decision.APPROVED if made else None




@dataclass(frozen=True)
class Route:
    """The chain a request goes through once the requester's own steps are accounted for."""

    chain: LeaveChain
    skipped: tuple[int, ...] = ()  # steps of `chain` the requester would have approved (left out)
    via: tuple[str, ...] = ()  # chains left for another through `on_self`, in order


def route_self(chain: LeaveChain, chains: Sequence[LeaveChain], requester_id: int,
               approvers: Callable[[LeaveStep], Iterable[int]]) -> Route:
    """Where a request goes when the requester is among a step's approvers (`approvers(step)`: who
    that step would ask, stand-ins included). Such a step sends the request on to the chain its
    `on_self` names, walked the same way; without one, the step is left out. A chain with no step
    left raises SelfApproval — a request is never sent to the generic fallback for it."""
    by_name = {c.name: c for c in chains}
    via: list[str] = []
    while True:
        if chain.mode == "report":
            return Route(chain, (), tuple(via))
        skipped: list[int] = []
        onward: LeaveChain | None = None
        for i, step in enumerate(chain.steps):
            if requester_id not in set(approvers(step)):
                continue
            if step.on_self:
                onward = by_name.get(step.on_self)
                if onward is None or onward.name in via or onward.name == chain.name:
                    raise SelfApproval(chain.name)  # a loop, or a name the config no longer has
                break
            skipped.append(i)
        if onward is not None:
            via.append(chain.name)
            chain = onward
            continue
        if len(skipped) == len(chain.steps):
            raise SelfApproval(chain.name)
        return Route(chain, tuple(skipped), tuple(via))
