"""The default escalation policy, seeded by a migration and editable in the admin afterwards.

1. aware + 0 h: security and managers, SMS + e-mail.
2. aware + 4 h, unless assessed: managers, SMS, every 60 min.
3. aware + 12 h, unless the GBA is notified: managers and DPO, SMS + e-mail, every 60 min.
4. deadline - 4 h, unless the controller is notified: managers and DPO, SMS, then a call if not
   acknowledged within 15 min, every 30 min.
5. deadline, unless the controller is notified: managers and DPO, SMS + call + e-mail saying
   OVERDUE, every 60 min.
6. 3 days before part 2 of the GBA notification is due, until it is filed: managers and DPO,
   SMS + e-mail, every 24 h.
7. part 2's deadline, until it is filed: managers and DPO, SMS + call + e-mail saying OVERDUE,
   every 60 min.
8. 12 h before the data subjects must be informed, until they are: managers and DPO, SMS +
   e-mail, every 60 min.
9. that deadline, until they are: managers and DPO, SMS + call + e-mail saying OVERDUE, every
   60 min.
10-12. the deadline of an update owed to a controller, of a follow-up or of a withdrawal owed to
   the GBA, until it is sent: managers and DPO, SMS + e-mail saying OVERDUE, every 4 h.
13. 4 hours before a report another regime asks for is due (NIS2's to the CCB), until it is
   made: managers and DPO, SMS + e-mail, every 60 min.
14. its deadline: managers and DPO, SMS + call + e-mail saying OVERDUE, every 60 min.
"""

from datetime import timedelta

from django.utils import translation
from django.utils.translation import gettext_noop

from incident_manager import languages

H = timedelta(hours=1)
M = timedelta(minutes=1)

STEPS = [
    # position, anchor, offset, unless reached, roles, sms, call, e-mail, call after, repeat
    (1, "aware", 0 * H, "", ["security", "manager"], True, False, True, None, None),
    (2, "aware", 4 * H, "assessed", ["manager"], True, False, False, None, 60 * M),
    (3, "aware", 12 * H, "gba_notified", ["manager", "dpo"], True, False, True, None, 60 * M),
    (4, "deadline", -4 * H, "controller_notified", ["manager", "dpo"], True, True, False, 15 * M,
     30 * M),
    (5, "deadline", 0 * H, "controller_notified", ["manager", "dpo"], True, True, True, None,
     60 * M),
]  # fmt: skip


# position, obligation, offset from its deadline, roles, call, repeat, says OVERDUE
OBLIGATION_STEPS = [
    (6, "complete_gba", -72 * H, ["manager", "dpo"], False, 24 * H, False),
    (7, "complete_gba", 0 * H, ["manager", "dpo"], True, 60 * M, True),
    (8, "inform_subjects", -12 * H, ["manager", "dpo"], False, 60 * M, False),
    (9, "inform_subjects", 0 * H, ["manager", "dpo"], True, 60 * M, True),
    (10, "update_controller", 0 * H, ["manager", "dpo"], False, 4 * H, True),
    (11, "gba_follow_up", 0 * H, ["manager", "dpo"], False, 4 * H, True),
    (12, "gba_withdrawal", 0 * H, ["manager", "dpo"], False, 4 * H, True),
    (13, "regime", -4 * H, ["manager", "dpo"], False, 60 * M, False),
    (14, "regime", 0 * H, ["manager", "dpo"], True, 60 * M, True),
]  # fmt: skip


# What people read in the pages and on the incident page; translated from the catalogue.
NAMES = {
    1: gettext_noop("New data breach"),
    2: gettext_noop("Not assessed yet"),
    3: gettext_noop("GBA not notified yet"),
    4: gettext_noop("Controller not notified yet"),
    5: gettext_noop("OVERDUE: controller not notified"),
    6: gettext_noop("GBA part 2 not filed yet"),
    7: gettext_noop("OVERDUE: GBA part 2"),
    8: gettext_noop("Data subjects not informed yet"),
    9: gettext_noop("OVERDUE: data subjects"),
    10: gettext_noop("OVERDUE: controller update"),
    11: gettext_noop("OVERDUE: GBA follow-up"),
    12: gettext_noop("OVERDUE: GBA withdrawal"),
    13: gettext_noop("Report to the CCB (or another regime) due"),
    14: gettext_noop("OVERDUE: report to the CCB (or another regime)"),
}


def name_steps(policy, step_model):
    """Give the default steps their names in the three languages, where they have none."""
    for step in step_model.objects.filter(policy=policy, position__in=NAMES, name_en=""):
        for language in languages.CODES:
            with translation.override(language):
                setattr(step, f"name_{language}", translation.gettext(NAMES[step.position]))
        step.save(update_fields=["name_nl", "name_fr", "name_en"])


def add_obligation_steps(group_model, policy, step_model, positions=None):
    """The steps for part 2 of the GBA notification, for informing the data subjects and for
    keeping the controllers and the GBA current (these positions, or all)."""
    for position, obligation, offset, roles, call, repeat, overdue in OBLIGATION_STEPS:
        if positions is not None and position not in positions:
            continue
        step, created = step_model.objects.get_or_create(
            policy=policy,
            position=position,
            defaults={
                "anchor": "obligation",
                "obligation": obligation,
                "offset": offset,
                "sms": True,
                "call": call,
                "email": True,
                "repeat_every": repeat,
                "overdue": overdue,
            },
        )
        if created:
            step.roles.set(group_model.objects.filter(name__in=roles))


def create_default_policy(group_model, policy_model, step_model, obligation_steps=True):
    if policy_model.objects.exists():
        return None
    policy = policy_model.objects.create(name="Conitro 24 h", is_active=True)
    for position, anchor, offset, until, roles, sms, call, email, call_after, repeat in STEPS:
        step = step_model.objects.create(
            policy=policy,
            position=position,
            anchor=anchor,
            offset=offset,
            until_state=until,
            sms=sms,
            call=call,
            email=email,
            call_if_unacknowledged_after=call_after,
            repeat_every=repeat,
            overdue=position == 5,
        )
        step.roles.set(group_model.objects.filter(name__in=roles))
    if obligation_steps:  # not in migration 0002, whose steps have no obligation nor name yet
        add_obligation_steps(group_model, policy, step_model)
        name_steps(policy, step_model)
    return policy
