"""Roles, organisation kinds and what each role may do: plain data and functions, no database, no web."""

from __future__ import annotations

ORGANISATION_KINDS = {
    "government": ("政府部门", "Government department"),
    "cooperative": ("两山合作社", "Two-mountain cooperative"),
    "village_company": ("村集体/生态强村公司", "Village collective or eco-company"),
    "enterprise": ("企业", "Enterprise"),
    "bank": ("银行", "Bank"),
    "individual": ("个人", "Individual"),
}

ROLES = {
    "admin": ("系统管理员", "Administrator"),
    "analyst": ("核算人员", "Accounting analyst"),
    "cooperative_manager": ("合作社管理员", "Cooperative manager"),
    "enterprise_user": ("企业用户", "Enterprise user"),
    "bank_officer": ("银行信贷员", "Bank officer"),
    "villager": ("村民", "Villager"),
    "viewer": ("访客", "Viewer"),
}

PERMISSIONS = {
    "accounts.read": "read regions, zones, accounts and reports",
    "accounting.run": "start accounting runs",
    "region.import": "import a region package",
    "user.manage": "create users and organisations",
    "audit.read": "read the audit log",
}

GRANTS: dict[str, frozenset[str]] = {
    "admin": frozenset(PERMISSIONS),
    "analyst": frozenset({"accounts.read", "accounting.run", "region.import"}),
    "cooperative_manager": frozenset({"accounts.read"}),
    "enterprise_user": frozenset({"accounts.read"}),
    "bank_officer": frozenset({"accounts.read"}),
    "villager": frozenset({"accounts.read"}),
    "viewer": frozenset({"accounts.read"}),
}

MIN_PASSWORD = 10


def allowed(role: str, permission: str) -> bool:
    """Whether a role holds a permission (unknown roles hold nothing)."""
    return permission in GRANTS.get(role, frozenset())


def password_problems(password: str, username: str) -> list[str]:
    """Why a password is refused (empty when it is acceptable)."""
    problems = []
    if len(password) < MIN_PASSWORD:
        problems.append(f"password must have at least {MIN_PASSWORD} characters")
    if username and username.lower() in password.lower():
        problems.append("password must not contain the username")
    return problems
