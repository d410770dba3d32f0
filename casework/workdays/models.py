"""The official holiday arrangement (节假日安排), one row per year and per special day.

Only days that differ from the plain week are stored: public holidays (法定节假日,
including the weekend days inside a holiday run) and adjusted working days on weekends
(调休上班). Every other Monday–Friday is a working day, every other weekend day a rest
day.
"""

import datetime as dt

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from casework.dbtypes import UTCDateTime, one_of, utcnow
from casework.extensions import db
from casework.users.models import User
from casework.workdays.calendar import DAY_KINDS

SOURCES = ("package", "admin")


class CalendarYear(db.Model):
    """A year whose arrangement is in the data.

    `confirmed` is True only when the whole arrangement is in, adjusted working days
    included; deadlines reaching into any other year are provisional. `source` says
    where it came from: the chinesecalendar package or an admin's entry.
    """

    __tablename__ = "calendar_year"
    __table_args__ = (
        one_of("source", SOURCES),
        sa.CheckConstraint("year BETWEEN 1949 AND 2200", name="year_range"),
    )

    year: Mapped[int] = mapped_column(sa.Integer, primary_key=True, autoincrement=False)
    confirmed: Mapped[bool] = mapped_column(sa.Boolean, default=False)
    source: Mapped[str] = mapped_column(sa.String(8))
    entered_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user_account.id"),
                                                      index=True)
    entered_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    note: Mapped[str | None] = mapped_column(sa.String(500))

    entered_by: Mapped[User | None] = relationship()
    days: Mapped[list["CalendarDay"]] = relationship(
        back_populates="calendar_year", order_by="CalendarDay.date",
        cascade="all, delete-orphan", passive_deletes=True,
    )

    def __repr__(self):
        return f"<CalendarYear {self.year} {'confirmed' if self.confirmed else 'unconfirmed'}>"


class CalendarDay(db.Model):
    """A public holiday or an adjusted working day (调休上班) of one year."""

    __tablename__ = "calendar_day"
    __table_args__ = (
        one_of("kind", DAY_KINDS),
        # An adjusted working day names the holiday it makes up for, if known; a
        # holiday always has its name (春节, 国庆节 ...).
        sa.CheckConstraint("kind <> 'holiday' OR (name IS NOT NULL AND name <> '')",
                           name="holiday_named"),
    )

    date: Mapped[dt.date] = mapped_column(sa.Date, primary_key=True)
    year: Mapped[int] = mapped_column(
        sa.ForeignKey("calendar_year.year", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(sa.String(8))
    name: Mapped[str | None] = mapped_column(sa.String(64))

    calendar_year: Mapped[CalendarYear] = relationship(back_populates="days")

    def __repr__(self):
        return f"<CalendarDay {self.date} {self.kind} {self.name or ''}>"
