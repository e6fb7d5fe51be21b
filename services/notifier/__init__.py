"""Delivery of alert and dunning events to subscriptions (webhook, Slack, email).

Two roles share one Redis queue (layout: ``services/notifier/queue.py``):

- the dispatcher reads ``cs.alerts.v1`` / ``cs.dunning.v1``, matches each event
  against the subscriptions and enqueues one delivery per match;
- delivery workers read the queue, deliver through the subscription's channel and
  retry with backoff, dead-lettering after the last try.

Delivery is at-least-once with an idempotency key (``webhook-id`` =
``delivery_id``); see ``handling.py`` for the one window where a receiver can see
a delivery twice.
"""
