"""Complaints and tip-offs (投诉举报线索): intake, the complaint machine, personal data."""
