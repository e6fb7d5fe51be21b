"""Dunning: the per-invoice failed-payment state machine and renewal/card reminders."""
