-- Unit chiefs (单位主要负责人: 街道办事处主任、局长) become a role of their own, `unit_chief`, distinct
-- from the unit's office head (`unit_head`, 单位办公室主任). No role is guessed or changed here: a member
-- registered as a street's or bureau's `unit_head` may be either, so each is put on a list the admins
-- are shown once (bot/services/role_review.py) and re-role with one command (/role, `dutydesk role`).
-- Leave requests filed under the old chain name 'unit_heads' keep their steps (see LEGACY_CHAINS).
CREATE TABLE role_review (
    member_id  INTEGER PRIMARY KEY REFERENCES members(id),
    reason     TEXT NOT NULL,
    found_at   TEXT NOT NULL,
    told_at    TEXT
);
INSERT INTO role_review(member_id, reason, found_at)
SELECT DISTINCT m.id, 'unit_head@' || u.kind, strftime('%Y-%m-%dT%H:%M:%f000Z', 'now')
  FROM members m
  JOIN member_roles r ON r.member_id = m.id AND r.role = 'unit_head'
  JOIN units u ON u.code = m.unit_code
 WHERE u.kind IN ('street', 'bureau') AND m.active = 1;
