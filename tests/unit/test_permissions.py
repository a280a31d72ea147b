import pytest

from bot.domain.members import PERMISSIONS, Action, Member, Role, can, may_see_incident


def member(*roles: Role, unit: str = "jianshelu", active: bool = True) -> Member:
    return Member(id=1, telegram_id=1, name="x", unit_code=unit, roles=frozenset(roles), active=active)


@pytest.mark.parametrize("action", list(Action))
def test_nobody_without_roles_or_inactive(action: Action) -> None:
    assert not can(None, action)
    assert not can(member(), action)
    for role in PERMISSIONS[action]:
        assert not can(member(role, active=False), action)


def test_officer_acts_on_own_unit_only() -> None:
    officer = member(Role.OFFICER)
    assert can(officer, Action.FILE_STAGE, "jianshelu")
    assert not can(officer, Action.FILE_STAGE, "mianfanglu")
    assert not can(officer, Action.CLOSE_INCIDENT, "jianshelu")
    assert not can(officer, Action.ACK_ALERT, "jianshelu")


def test_unit_head_closes_own_unit_only() -> None:
    head = member(Role.UNIT_HEAD)
    assert can(head, Action.CLOSE_INCIDENT, "jianshelu")
    assert not can(head, Action.CLOSE_INCIDENT, "xushui")
    assert not can(head, Action.FORWARD_UPSTREAM, "jianshelu")


def test_office_roles_reach_every_unit() -> None:
    director = member(Role.DIRECTOR, unit="office")
    duty = member(Role.DUTY, unit="office")
    assert can(director, Action.CLOSE_INCIDENT, "xushui")
    assert can(duty, Action.ACK_ALERT, "xushui")
    assert can(duty, Action.FORWARD_UPSTREAM, "xushui")
    assert not can(duty, Action.CLOSE_INCIDENT, "xushui")
    assert not can(duty, Action.REPORT_INCIDENT)


def test_admin_manages_members_but_does_not_report() -> None:
    admin = member(Role.ADMIN, unit="office")
    assert can(admin, Action.MANAGE_MEMBERS)
    assert not can(admin, Action.REPORT_INCIDENT)


@pytest.mark.parametrize("role", list(Role))
def test_who_may_see_an_incident(role: Role) -> None:
    """The office sees every unit's incidents; a unit's reporting members their own unit's; admins and
    info editors none; nobody once deactivated. The unit's chief sees their own unit's."""
    office = role in (Role.DUTY, Role.DIRECTOR, Role.LEADER)
    own_unit = role in (Role.OFFICER, Role.UNIT_HEAD, Role.UNIT_CHIEF)
    m = member(role)
    assert may_see_incident(m, "jianshelu") is (office or own_unit)
    assert may_see_incident(m, "mianfanglu") is office
    assert not may_see_incident(member(role, active=False), "jianshelu")
    assert not may_see_incident(None, "jianshelu")
