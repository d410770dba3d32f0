"""The dashboards' order facts: what each order adds to the monthly counts, by day.

One row per (order, local day) on which something the dashboards count changes: the
order was issued (+1 issued), first closed (+1 closed, +1 closed on time without a late
submission), or began (+1) or stopped (−1) being overdue and open at the end of that day.
Summing `issued`/`closed` over a month gives the month's flow; summing `overdue` over
every day up to a day gives how many orders were overdue at its end. The rows are
derived from the orders, their submissions and their history (casework/dashboard/facts.py)
and kept up to date in the same transaction as every change to those.
"""

from datetime import date

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from casework.extensions import db


class OrderDayFact(db.Model):
    __tablename__ = "order_day_fact"
    __table_args__ = (
        # The charts read a campaign's facts for the institutions in scope, by day: the
        # sums are in the index, so the read never visits the table.
        sa.Index("ix_order_day_fact_scope", "campaign_id", "institution_id", "day",
                 "issued", "closed", "closed_on_time", "overdue"),
    )

    order_id: Mapped[int] = mapped_column(sa.Integer, primary_key=True)
    day: Mapped[date] = mapped_column(sa.Date, primary_key=True)
    campaign_id: Mapped[int] = mapped_column(sa.Integer)
    institution_id: Mapped[int] = mapped_column(sa.Integer)
    issued: Mapped[int] = mapped_column(sa.SmallInteger, default=0)
    closed: Mapped[int] = mapped_column(sa.SmallInteger, default=0)
    closed_on_time: Mapped[int] = mapped_column(sa.SmallInteger, default=0)
    overdue: Mapped[int] = mapped_column(sa.SmallInteger, default=0)


class ComplaintDayTally(db.Model):
    """Complaints about the institutions of one region received on one day: received,
    handled (an outcome recorded), substantiated, transferred to another department."""
    __tablename__ = "complaint_day_tally"

    region_id: Mapped[int] = mapped_column(sa.Integer, primary_key=True)
    day: Mapped[date] = mapped_column(sa.Date, primary_key=True)
    received: Mapped[int] = mapped_column(sa.Integer, default=0)
    handled: Mapped[int] = mapped_column(sa.Integer, default=0)
    substantiated: Mapped[int] = mapped_column(sa.Integer, default=0)
    transferred: Mapped[int] = mapped_column(sa.Integer, default=0)


class DisputeDayTally(db.Model):
    """Medical disputes at the institutions of one region that occurred on one day, by
    route: how many, and how many are resolved."""
    __tablename__ = "dispute_day_tally"

    region_id: Mapped[int] = mapped_column(sa.Integer, primary_key=True)
    day: Mapped[date] = mapped_column(sa.Date, primary_key=True)
    route: Mapped[str] = mapped_column(sa.String(12), primary_key=True)
    occurred: Mapped[int] = mapped_column(sa.Integer, default=0)
    resolved: Mapped[int] = mapped_column(sa.Integer, default=0)


class FindingDayTally(db.Model):
    """Findings of one campaign's inspections finalised on one (local) day at the
    institutions of one region, by key task: found, requiring rectification, rectified
    (in an order verified and closed)."""
    __tablename__ = "finding_day_tally"

    campaign_id: Mapped[int] = mapped_column(sa.Integer, primary_key=True)
    region_id: Mapped[int] = mapped_column(sa.Integer, primary_key=True)
    key_task_id: Mapped[int] = mapped_column(sa.Integer, primary_key=True)
    day: Mapped[date] = mapped_column(sa.Date, primary_key=True)
    found: Mapped[int] = mapped_column(sa.Integer, default=0)
    to_rectify: Mapped[int] = mapped_column(sa.Integer, default=0)
    rectified: Mapped[int] = mapped_column(sa.Integer, default=0)
