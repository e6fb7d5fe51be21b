"""``cs.tickets.v1``: support load, weighted by priority and satisfaction."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from schemas.common import Identifier, InputEvent

Priority = Literal["low", "normal", "high", "urgent"]


class _TicketBase(InputEvent):
    ticket_id: Identifier
    priority: Priority = Field(default="normal", description="Current priority of the ticket.")


class TicketOpened(_TicketBase):
    type: Literal["ticket_opened"]


class TicketUpdated(_TicketBase):
    type: Literal["ticket_updated"]


class TicketSolved(_TicketBase):
    type: Literal["ticket_solved"]
    csat: int | None = Field(default=None, ge=1, le=5, description="CSAT 1-5 if asked.")


class TicketReopened(_TicketBase):
    type: Literal["ticket_reopened"]


TicketEvent = Annotated[
    TicketOpened | TicketUpdated | TicketSolved | TicketReopened, Field(discriminator="type")
]
