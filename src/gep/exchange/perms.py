"""The exchange's permissions (one place, so services, routes and pages name them alike)."""

from __future__ import annotations

TRADE = "exchange.trade"  # list, register, bid, sign, pay; publish demands
REVIEW = "exchange.review"  # review, approve or reject, announce
READ_ALL = "exchange.read_all"  # see drafts and every bidder
CATEGORIES = "exchange.categories"  # edit the list of categories
