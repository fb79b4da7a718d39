"""Roles, organisation kinds, usernames, passwords and login throttling: plain data and functions.

No database and no web here: the service applies these rules, tests check them by hand and with hypothesis.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from datetime import datetime, timedelta

from gep.errors import N_

ORGANISATION_KINDS = {
    "government": N_("Government department"),
    "cooperative": N_("Two-mountain cooperative"),
    "village_company": N_("Village collective or eco-company"),
    "enterprise": N_("Enterprise"),
    "bank": N_("Bank"),
    "individual": N_("Individual"),
}

ROLES = {
    "admin": N_("Administrator"),
    "analyst": N_("Accounting analyst"),
    "cooperative_manager": N_("Cooperative manager"),
    "enterprise_user": N_("Enterprise user"),
    "bank_officer": N_("Bank officer"),
    "villager": N_("Villager"),
    "viewer": N_("Viewer"),
}

# -- usernames ------------------------------------------------------------------------------------------------

USERNAME = re.compile(r"^[a-z0-9][a-z0-9._-]{1,39}$")


def normalise_username(raw: str) -> str:
    """The one spelling a username is stored and looked up under: NFKC, trimmed, lower case."""
    return unicodedata.normalize("NFKC", raw).strip().lower()


def username_problem(name: str) -> str | None:
    """Why a (normalised) username is refused, or None. ASCII only, so no look-alike of another name fits."""
    if not USERNAME.match(name):
        return N_("a username has 2 to 40 characters: the letters a–z, digits, '.', '-' and '_', starting with a "
                  "letter or digit")
    return None


# -- passwords ------------------------------------------------------------------------------------------------

MIN_PASSWORD = 10
MAX_PASSWORD = 256
JUDGED = 72  # the characters zxcvbn looks at
MIN_STRENGTH = 3  # zxcvbn's score, 0 (guessable in a few tries) … 4 (very unguessable)


def password_problems(password: str, username: str = "", context: Sequence[str] = ()) -> list[str]:
    """Why a password is refused (empty when it is acceptable): long enough, and not guessable — judged by
    zxcvbn (dictionaries of common passwords, names, keyboard walks, sequences, dates), with the username
    and the person's own details counted as known to an attacker."""
    from zxcvbn import zxcvbn

    problems = []
    if len(password) < MIN_PASSWORD:
        problems.append(N_("a password needs at least 10 characters"))
    if len(password) > MAX_PASSWORD:
        problems.append(N_("a password has at most 256 characters"))
    if username and username.lower() in password.lower():
        problems.append(N_("a password must not contain the username"))
    # zxcvbn judges at most its first 72 characters (beyond, its matching grows too costly and it refuses): a
    # long passphrase is judged by its beginning, so "password" repeated is still refused
    if not problems and zxcvbn(password[:JUDGED], user_inputs=[username, *context])["score"] < MIN_STRENGTH:
        problems.append(N_("this password is too easy to guess (a common password, a sequence or a pattern); "
                           "use a longer phrase of unrelated words"))
    return problems


# -- login throttling -----------------------------------------------------------------------------------------

WINDOW = timedelta(minutes=15)
FREE_FAILURES = 5  # per username within the window before it is locked
MAX_LOCK = timedelta(minutes=15)
IP_FAILURES = 30  # per address within the window


def lock_seconds(failures: Sequence[datetime], moment: datetime, free: int = FREE_FAILURES) -> int:
    """How long a name (or an address) must wait before the next attempt, given its failed attempts.

    Past `free` failures within the window, each further failure doubles the wait (30 s, 1 min, 2 min, …),
    up to 15 minutes after the latest failure."""
    recent = sorted(f for f in failures if moment - f < WINDOW)
    if len(recent) < free:
        return 0
    wait = min(timedelta(seconds=30 * 2 ** (len(recent) - free)), MAX_LOCK)
    remaining = recent[-1] + wait - moment
    return max(0, int(remaining.total_seconds() + 0.999))
