"""The default escalation policy, seeded by a migration and editable in the admin afterwards.

1. aware + 0 h: security and managers, SMS + e-mail.
2. aware + 4 h, unless assessed: managers, SMS, every 60 min.
3. aware + 12 h, unless the GBA is notified: managers and DPO, SMS + e-mail, every 60 min.
4. deadline - 4 h, unless the controller is notified: managers and DPO, SMS, then a call if not
   acknowledged within 15 min, every 30 min.
5. deadline, unless the controller is notified: managers and DPO, SMS + call + e-mail saying
   OVERDUE, every 60 min.
"""

from datetime import timedelta

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


def create_default_policy(group_model, policy_model, step_model):
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
    return policy
