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
