"""Demo seeding: the demo organisations and one user per role, each with a fresh password."""

from __future__ import annotations

import secrets

from sqlalchemy import select

from gep.auth import service
from gep.auth.models import Organisation, User
from gep.db import unit_of_work
from gep.kit.domain import SeedContext
from gep.kit.principal import SYSTEM

# (organisation, kind) and the demo users: username, role, display name, organisation (index), what to try
COUNTIES = ["莲都区", "青田县", "缙云县", "遂昌县", "松阳县", "云和县", "庆元县", "景宁畲族自治县", "龙泉市"]
ORGANISATIONS = [("丽水市生态环境局（演示）", "government"), ("遂昌县两山合作社（演示）", "cooperative"),
                 ("丽水农商银行（演示）", "bank"), ("丽水某光伏企业（演示）", "enterprise"),
                 ("丽水市公共资源交易中心（演示）", "government"), ("丽水某文旅企业（演示）", "enterprise"),
                 ("丽水市林业局（演示）", "government"), ("浙江某碳汇核证机构（演示）", "enterprise"),
                 ("丽水某化工企业（演示）", "enterprise"), ("丽水市考核办（演示）", "government"),
                 ("丽水市统计局（演示）", "government"), ("丽水市生态农业协会（演示）", "government"),
                 ("松阳某茶业有限公司（演示）", "enterprise"), ("松阳某茶叶经销商（演示）", "enterprise"),
                 ("丽水市生态环境监测中心（演示）", "government")] + [
    (f"{county}两山合作社（演示）", "cooperative") for county in COUNTIES if county != "遂昌县"]
USERS = [("admin", "admin", "演示管理员", 0, "everything"),
         ("analyst", "analyst", "演示核算员", 0, "accounting runs, region import"),
         ("coop", "cooperative_manager", "演示合作社管理员", 1, "a cooperative's work"),
         ("bank", "bank_officer", "演示信贷员", 2, "a bank's work"),
         ("enterprise", "enterprise_user", "演示企业用户", 3, "an enterprise's work"),
         ("villager", "villager", "演示村民", None, "a villager's own page"),
         ("viewer", "viewer", "演示访客", 0, "reading"),
         ("officer", "exchange_officer", "演示交易审核员", 4, "the exchange's review queue and announcements"),
         ("finance", "finance_clerk", "演示财务", 4, "payments in and out, the balance sheet"),
         ("enterprise2", "enterprise_user", "演示文旅企业用户", 5, "a second bidder on the exchange"),
         ("forester", "carbon_officer", "演示林业局碳汇专员", 6, "the carbon registry's issuance"),
         ("verifier", "verifier", "演示核证员", 7, "verifying carbon monitoring reports"),
         ("factory", "enterprise_user", "演示化工企业用户", 8, "an enterprise's discharge card (over 80 % of its COD)"),
         ("envofficer", "env_officer", "演示生态环境局专员", 0, "discharge permits, reserves and auctions"),
         ("assessor", "assessor", "演示考核办专员", 9, "the GEP assessment: score sheets, colour codes, publishing"),
         ("statistics", "department_reporter", "演示统计局填报员", 10, "a department's values for the GEP assessment"),
         ("brandoffice", "brand_officer", "演示品牌办专员", 11, "the brand 丽水山耕: certification, batches, labels"),
         ("teamaker", "producer", "演示茶企用户", 12, "a tea company's brand products, batches and trace steps"),
         ("monitor", "monitoring_officer", "演示监测中心专员", 14, "stations, readings, alerts, land-cover change"),
         ("ranger", "ranger", "演示护林员", 6, "patrol reports from a phone")]


def seed(ctx: SeedContext) -> None:
    """Create (or keep) the demo organisations and users; every user gets a new password on every run."""
    with unit_of_work(ctx.factory) as s:
        orgs = []
        for name, kind in ORGANISATIONS:
            org = s.scalar(select(Organisation).where(Organisation.name == name))
            orgs.append(org or service.create_organisation(s, name, kind, SYSTEM))
        ctx.shared["government_id"] = orgs[0].id
        ctx.shared["organisations"] = {name: org.id for (name, _kind), org in zip(ORGANISATIONS, orgs, strict=True)}
        ctx.shared["users"] = {}
        for username, role, display, org_index, shows in USERS:
            password = secrets.token_urlsafe(12)
            user = s.scalar(select(User).where(User.username == username))
            org_id = orgs[org_index].id if org_index is not None else None
            if user is None:
                user = service.create_user(s, username, password, role, SYSTEM, display, org_id,
                                           roles=ctx.roles or None)
            else:
                service.set_password(s, user, password, SYSTEM)
            ctx.shared["users"][username] = user.id
            ctx.logins[username] = (password, shows)
