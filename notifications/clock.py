"""The clock: each escalation step fires on the second it is due.

django-q2's scheduler wakes every 30 s, so a step fired by the schedule alone is up to 30 s
late. The clock is a small process (`manage.py clock`) that sleeps until the next firing or
retry is due, but never longer than CLOCK_POLL (half a second), so a firing that another
process plans meanwhile (a new incident, a corrected awareness, an edited policy) is seen at
once without any signalling between processes: one indexed query per wake-up. It fires through
the same compare-and-set as everything else (`escalation.fire_due`: a batch of incidents per
transaction, a fixed number of queries per batch) and hands the messages to the provider at
once from its worker threads, without a trip through the queue.

Two clocks, the clusters and the schedule may all run at the same time: a firing is claimed
once, a message is claimed once. The q2 schedule stays as the safety net when no clock runs.

Stopping (SIGTERM, SIGINT): no new work is taken; sends in flight get CLOCK_STOP_GRACE, then
the process exits even if a provider hangs. A message not started yet is left queued and due
now, for the next clock or dispatcher; a send cut off is left `sending` and is sent again,
marked "possibly twice", after MESSAGE_SEND_TIMEOUT (whether the provider got it is unknown).
A database that goes away (a restart) is retried every second; nothing due is skipped.
"""

import logging
import queue
import threading
import time

from django.conf import settings
from django.db import DatabaseError, close_old_connections, connection
from django.utils import timezone

from . import escalation
from .models import Message
from .sending import send_message

logger = logging.getLogger(__name__)
RETRY_AFTER_DATABASE_ERROR = 1.0


class Clock:
    def __init__(self, senders=8, poll=None, grace=None):
        self.poll = poll if poll is not None else settings.CLOCK_POLL.total_seconds()
        self.grace = grace if grace is not None else settings.CLOCK_STOP_GRACE.total_seconds()
        self.stopping = threading.Event()
        self.outbox = queue.Queue()
        self.in_flight = 0
        self.handed = set()
        self.lock = threading.Lock()
        self.senders = [
            threading.Thread(target=self.sender, name=f"clock-sender-{n}", daemon=True)
            for n in range(senders)
        ]

    def tick(self):
        """Fire what is due, a batch of incidents per transaction, and hand the messages to
        the workers, who send them at once (or send here, without workers); the seconds to
        sleep before the next tick."""
        now = timezone.now()
        more = True
        while more and not self.stopping.is_set():
            _claimed, message_ids, more = escalation.fire_due(now)
            for message_id in message_ids:
                self.hand_over(("send", message_id))
        for message_id in escalation.messages_to_retry(now):
            self.hand_over(("send", message_id))
        upcoming = escalation.next_wake_up()
        if upcoming is None:
            return self.poll
        return min(max((upcoming - timezone.now()).total_seconds(), 0), self.poll)

    def hand_over(self, work):
        """Sends run side by side on the workers while this thread fires the next batch; a
        message already handed over is not handed over again."""
        with self.lock:
            if work in self.handed:
                return
            self.handed.add(work)
        if self.senders:
            self.outbox.put(work)
        else:
            self.do(work)

    def do(self, work):
        try:
            send_message(work[1])
        finally:
            with self.lock:
                self.handed.discard(work)

    def sender(self):
        while True:
            work = self.outbox.get()
            with self.lock:
                self.in_flight += 1
            try:
                self.do(work)
            except DatabaseError:
                logger.exception("clock: %s %s not done; the next tick retries", *work)
                connection.close()
            finally:
                with self.lock:
                    self.in_flight -= 1
                close_old_connections()

    def run(self):
        for thread in self.senders:
            thread.start()
        logger.info("clock: running (wakes at least every %.1f s)", self.poll)
        while not self.stopping.is_set():
            try:
                wait = self.tick()
            except DatabaseError:
                logger.exception("clock: database error; trying again in a second")
                connection.close()
                wait = RETRY_AFTER_DATABASE_ERROR
            self.stopping.wait(wait)
        self.finish()

    def stop(self, *_signal):
        self.stopping.set()

    def finish(self):
        """Let the sends in flight end within the grace period; leave the rest queued and due."""
        deadline = time.monotonic() + self.grace
        while time.monotonic() < deadline and (self.in_flight or not self.outbox.empty()):
            time.sleep(0.05)
        left = []
        while not self.outbox.empty():
            left.append(self.outbox.get_nowait()[1])
        if left:
            Message.objects.filter(pk__in=left, status=Message.Status.QUEUED).update(
                next_attempt_at=timezone.now()
            )
        logger.info("clock: stopped (%d sends in flight abandoned)", self.in_flight)
