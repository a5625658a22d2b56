"""Accounts: users with argon2id passwords, hashed API tokens, revocable sessions, login throttling.

No Flask here: the web layer (web/auth.py) and the CLI call these functions inside a session.
Only hashes are stored: argon2id for passwords, SHA-256 for API tokens and session ids.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from dataclasses import dataclass

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import bindparam, delete, select, update
from sqlalchemy.orm import Session

from geoplatform import models as m
from geoplatform.account_rules import AuthSettings, name_allowed, normalise_name, sign_in_wait
from geoplatform.errors import NotFound, UserInputError
from geoplatform.i18n import add_messages
from geoplatform.principal import Principal

add_messages({
    "zh": {
        "account.bad_name": "用户名“{name}”不可用：须为1–100个字符，只能包含字母（含汉字）、数字和 . _ -，"
                            "并以字母、汉字或数字开头（不能含空格或 /）",
        "account.unknown_role": "未知角色“{role}”，可选：{roles}",
        "account.street_needed": "街镇干部账号须指定所属街镇（--street）",
        "account.unknown_street": "未知街镇“{street}”",
        "account.street_only_officers": "只有街镇干部账号可以指定街镇（--street）",
        "account.utility_needed": "专业经营单位账号须指定单位（--utility），可选：{utilities}",
        "account.utility_only_utilities": "只有专业经营单位账号可以指定单位（--utility）",
        "account.community_needed": "社区干部账号须指定所属社区（--community，12位社区代码）",
        "account.unknown_community": "未知社区“{community}”",
        "account.community_street": "社区 {community} 不属于街镇 {street}",
        "account.community_only_officers": "只有社区干部账号可以指定社区（--community）",
        "account.password_short": "密码至少需要 {n} 个字符",
        "account.password_long": "密码最多 {n} 个字符",
        "account.password_same": "新密码不能与原密码相同",
        "account.old_password_wrong": "原密码不正确",
        "account.exists": "用户“{name}”已存在",
        "account.unknown_user": "未知用户“{name}”",
        "account.unknown_token": "未知的API令牌编号 {id}",
        "account.token_expired": "API令牌已过期（{at} UTC），请向管理员申请新的令牌",
        "account.token_invalid": "API令牌无效或已撤销",
        "account.cannot_disable_self": "不能停用自己的账号",
        "account.token_state.active": "有效",
        "account.token_state.expired": "已过期",
        "account.token_state.revoked": "已撤销",
        "account.cli.passwd": "用户 {name} 的密码已更改；已结束其 {n} 个登录会话（API令牌不受影响）",
        "account.not_allowed": "{actor} 无权管理账号 {name}（管理员账号及其令牌只能由管理员创建、提升或管理）",
        "account.cli.token": "令牌编号 {id}，有效至 {at} UTC；用法：Authorization: Bearer <token>（令牌不会再次显示）",
        "account.cli.revoked": "已撤销令牌 {id}（用户 {name}）",
        "account.cli.token_active": "#{id} 有效至 {at}",
        "account.cli.token_expired": "#{id} 已过期 {at}",
        "account.cli.token_revoked": "#{id} 已撤销",
        "account.cli.password_stdin": "请用 --password-stdin 从标准输入提供密码（不要写在命令行上）",
    },
    "en": {
        "account.bad_name": "user name {name!r} is not allowed: 1–100 characters, only letters (Chinese included), "
                            "digits and . _ -, beginning with a letter or digit (no spaces, no /)",
        "account.unknown_role": "unknown role {role!r}; choose one of: {roles}",
        "account.street_needed": "a street_officer needs --street",
        "account.unknown_street": "unknown street {street!r}",
        "account.street_only_officers": "--street is only for street_officer accounts",
        "account.utility_needed": "a utility account needs --utility, one of: {utilities}",
        "account.utility_only_utilities": "--utility is only for utility accounts",
        "account.community_needed": "a community_officer needs --community (a community's 12-digit code)",
        "account.unknown_community": "unknown community {community!r}",
        "account.community_street": "community {community} is not in street {street}",
        "account.community_only_officers": "--community is only for community_officer accounts",
        "account.password_short": "password must have at least {n} characters",
        "account.password_long": "password must have at most {n} characters",
        "account.password_same": "the new password must differ from the old one",
        "account.old_password_wrong": "the current password is wrong",
        "account.exists": "user {name!r} already exists",
        "account.unknown_user": "unknown user {name!r}",
        "account.unknown_token": "unknown API token id {id}",
        "account.token_expired": "API token expired ({at} UTC); ask an administrator for a new one",
        "account.token_invalid": "invalid or revoked API token",
        "account.cannot_disable_self": "you cannot disable your own account",
        "account.token_state.active": "active",
        "account.token_state.expired": "expired",
        "account.token_state.revoked": "revoked",
        "account.cli.passwd": "password of {name} changed; {n} sessions of theirs ended (API tokens are unaffected)",
        "account.not_allowed": "{actor} may not manage the account {name} (only an admin creates, elevates or manages "
                               "admin accounts and their tokens)",
        "account.cli.token": "token id {id}, valid until {at} UTC; use it as: Authorization: Bearer <token> "
                             "(it is not shown again)",
        "account.cli.revoked": "token {id} (user {name}) revoked",
        "account.cli.token_active": "#{id} valid until {at}",
        "account.cli.token_expired": "#{id} expired {at}",
        "account.cli.token_revoked": "#{id} revoked",
        "account.cli.password_stdin": "give the password on stdin with --password-stdin (never on the command line)",
    },
})

_hasher = PasswordHasher()  # argon2id, RFC 9106 low-memory profile (t=3, m=64 MiB, p=4)
_dummy: list[str] = []  # made on first need, not at import: every CLI start would pay one argon2 hash


def _dummy_hash() -> str:
    """A hash to verify against when the user does not exist, so timing does not reveal names."""
    if not _dummy:
        _dummy.append(_hasher.hash(secrets.token_hex(8)))
    return _dummy[0]


MIN_PASSWORD_LENGTH = 8  # [D] the one strength rule of every password (users add, passwd, change, reset)
MAX_PASSWORD_LENGTH = 1024  # [D] argon2 hashes any length; a megabyte "password" is only a cost to us
TOKEN_PREFIX = "gp_"


ThrottleSettings = AuthSettings  # the throttling thresholds' former name
SESSION_LIFETIME = dt.timedelta(hours=12)  # [D] absolute lifetime of a browser session
THROTTLE = AuthSettings()


class AccountError(UserInputError):
    """Bad account input (unknown role, missing street, weak password, duplicate name …): a catalogue key."""


class UnknownAccount(NotFound, AccountError):
    """The user or token named does not exist."""


def sha256(text: str) -> str:
    """Hex SHA-256 of a text (tokens and session ids are stored this way)."""
    return hashlib.sha256(text.encode()).hexdigest()


def hash_password(password: str) -> str:
    """An argon2id hash of the password."""
    return _hasher.hash(password)


def principal_of(user: m.User) -> Principal:
    """The Principal the permission rules see for a user row."""
    return Principal(name=user.name, role=user.role, street_code=user.street_code, utility=user.utility, id=user.id,
                     community_code=user.community_code)


def _validate(session: Session, role: str, street: str | None, utility: str | None,
              community: str | None = None) -> None:
    if role not in m.ROLES:
        raise AccountError("account.unknown_role", role=role, roles=", ".join(m.ROLES))
    if role == "community_officer":
        if not community:
            raise AccountError("account.community_needed")
        row = session.get(m.Community, community)
        if row is None:
            raise AccountError("account.unknown_community", community=community)
        if street and street != row.street_code:
            raise AccountError("account.community_street", community=community, street=street)
        return
    if community:
        raise AccountError("account.community_only_officers")
    if role == "street_officer":
        if not street:
            raise AccountError("account.street_needed")
        if session.get(m.Street, street) is None:
            raise AccountError("account.unknown_street", street=street)
    elif street:
        raise AccountError("account.street_only_officers")
    if role == "utility":
        if utility not in m.UTILITY_FACILITIES:
            raise AccountError("account.utility_needed", utilities=", ".join(m.UTILITY_FACILITIES))
    elif utility:
        raise AccountError("account.utility_only_utilities")


def check_password_strength(password: str) -> None:
    """The strength rule of every password set here: MIN_PASSWORD_LENGTH to MAX_PASSWORD_LENGTH characters."""
    if len(password or "") < MIN_PASSWORD_LENGTH:
        raise AccountError("account.password_short", n=MIN_PASSWORD_LENGTH)
    if len(password) > MAX_PASSWORD_LENGTH:
        raise AccountError("account.password_long", n=MAX_PASSWORD_LENGTH)


def add_user(session: Session, name: str, role: str, password: str, street: str | None = None,
             utility: str | None = None, password_hash: str | None = None, community: str | None = None) -> m.User:
    """Create a user (AccountError on bad input or an existing name); a community officer's street is its community's."""
    name = normalise_name(name)
    if not name_allowed(name):
        raise AccountError("account.bad_name", name=name[:120])
    _validate(session, role, street, utility, community)
    if community:
        street = session.get(m.Community, community).street_code
    if password_hash is None:
        check_password_strength(password)
    if get_user(session, name) is not None:
        raise AccountError("account.exists", name=name)
    user = m.User(name=name, role=role, street_code=street, utility=utility, community_code=community,
                  password_hash=password_hash or hash_password(password), disabled=False)
    session.add(user)
    session.flush()
    return user


def get_user(session: Session, name: str) -> m.User | None:
    """The user with this name, if any."""
    return session.scalars(select(m.User).where(m.User.name == name)).first()


def _existing(session: Session, name: str) -> m.User:
    user = get_user(session, name)
    if user is None:
        raise UnknownAccount("account.unknown_user", name=name)
    return user


def set_disabled(session: Session, name: str, disabled: bool) -> m.User:
    """Disable (ending every session and token) or enable a user."""
    user = _existing(session, name)
    user.disabled = disabled
    if disabled:
        revoke_user_sessions(session, user.id)
        session.execute(update(m.ApiToken).where(m.ApiToken.user_id == user.id).values(revoked=True))
    session.flush()
    return user


def list_users(session: Session, now: dt.datetime | None = None) -> list[dict]:
    """Every user as a plain dict (no hashes): `tokens` counts the usable ones, `token_list` shows every
    unrevoked token (id, state active/expired, expiry, last use)."""
    now = now or m.utcnow()
    rows = session.scalars(select(m.User).order_by(m.User.name)).all()
    by_user: dict[int, list[dict]] = {}
    for tok in list_tokens(session, now=now, include_revoked=False):
        by_user.setdefault(tok.pop("user_id"), []).append(tok)
    out = []
    for u in rows:
        tokens = by_user.get(u.id, [])
        active = [t for t in tokens if t["state"] == "active"]
        last = max((t["last_used_at"] for t in active if t["last_used_at"]), default=None)
        out.append({"name": u.name, "role": u.role, "street_code": u.street_code, "utility": u.utility,
                    "community_code": u.community_code,
                    "disabled": bool(u.disabled), "created_at": u.created_at.isoformat(timespec="seconds"),
                    "tokens": len(active), "expired_tokens": len(tokens) - len(active), "token_last_used": last,
                    "token_list": tokens})
    return out


def password_matches(password_hash: str | None, password: str) -> bool:
    """True when the password matches the argon2 hash (a dummy hash is checked when there is none)."""
    try:
        return _hasher.verify(password_hash or _dummy_hash(), password) and password_hash is not None
    except (VerificationError, InvalidHashError):
        return False


def verify_password(session: Session, name: str, password: str) -> m.User | None:
    """The enabled user whose password matches, else None (constant-ish time for unknown names)."""
    user = get_user(session, name)
    if not password_matches(user.password_hash if user else None, password):
        return None
    if user is None or user.disabled:
        return None
    if _hasher.check_needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    return user


def set_password(session: Session, name: str, password: str, password_hash: str | None = None) -> int:
    """Give a user a new password (strength rule checked) and end every session of theirs; returns how many
    live sessions ended.

    The caller that changes its own password starts a fresh session afterwards (web/auth.py);
    API tokens are separate credentials and stay (revoke them with `revoke_token`).
    `password_hash` (an argon2 hash of `password` computed outside the write transaction) saves a hashing.
    """
    check_password_strength(password)
    user = _existing(session, name)
    user.password_hash = password_hash or hash_password(password)
    ended = revoke_user_sessions(session, user.id)
    session.flush()
    return ended


def check_new_password(old: str, new: str) -> None:
    """The rules of a self-service change: the strength rule, and not the old password again."""
    check_password_strength(new)
    if new == old:
        raise AccountError("account.password_same")


# --- API tokens -------------------------------------------------------------------------------

TOKEN_USE_GRANULARITY = dt.timedelta(minutes=1)  # last_used_at is kept to the minute: not a write per API call

@dataclass(frozen=True)
class IssuedToken:
    """A new API token: the clear text (shown once), its id (for `users revoke`) and its expiry (UTC)."""

    id: int
    token: str
    expires_at: dt.datetime


def issue_token(session: Session, name: str, lifetime: dt.timedelta = THROTTLE.token_lifetime) -> IssuedToken:
    """Create an API token for a user, valid for `lifetime`; only its SHA-256 is kept."""
    user = _existing(session, name)
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    row = m.ApiToken(user_id=user.id, token_hash=sha256(token), expires_at=m.utcnow() + lifetime)
    session.add(row)
    session.flush()
    return IssuedToken(row.id, token, row.expires_at)


def new_token(session: Session, name: str, lifetime: dt.timedelta = THROTTLE.token_lifetime) -> str:
    """Create an API token for a user; the clear token is returned once, only its SHA-256 kept."""
    return issue_token(session, name, lifetime).token


def user_for_token(session: Session, token: str) -> m.User | None:
    """The enabled user owning an unrevoked, unexpired token, else None."""
    found = token_login(session, token)
    return found[0] if found else None


# The two look-ups every authenticated request makes, built once (bound by name) rather than per request.
_TOKEN_LOGIN = (
    select(m.ApiToken.last_used_at, m.User).join(m.User, m.User.id == m.ApiToken.user_id)
    .where(m.ApiToken.token_hash == bindparam("hash"), m.ApiToken.revoked.is_(False),
           m.ApiToken.expires_at > bindparam("now"), m.User.disabled.is_(False))
)
_SESSION_USER = (
    select(m.User).join(m.UserSession, m.UserSession.user_id == m.User.id)
    .where(m.UserSession.id_hash == bindparam("hash"), m.UserSession.revoked.is_(False),
           m.UserSession.expires_at > bindparam("now"), m.User.disabled.is_(False))
)


def token_login(session: Session, token: str) -> tuple[m.User, bool] | None:
    """The token's enabled owner, and whether its use is worth recording (unrecorded for a minute or more).

    The one check of an API token, whatever carries it (Bearer header, HTTP Basic): None when the
    token is unknown, revoked, expired or its owner disabled (`token_refusal` says which, for the
    message). Reads only: an API call stays a read; the caller records the use with
    `record_token_use` in a short write of its own, at most once a minute per token.
    """
    if not token or len(token) > 200:
        return None
    now = m.utcnow()
    row = session.execute(_TOKEN_LOGIN, {"hash": sha256(token), "now": now}).first()
    if row is None:
        return None
    last = row[0]
    return row[1], last is None or now - last >= TOKEN_USE_GRANULARITY


def token_refusal(session: Session, token: str) -> AccountError:
    """Why `token_login` refused a token: expired (with the date: the holder needs a new one) or invalid/revoked."""
    if token and len(token) <= 200:
        row = session.execute(
            select(m.ApiToken.expires_at).join(m.User, m.User.id == m.ApiToken.user_id)
            .where(m.ApiToken.token_hash == sha256(token), m.ApiToken.revoked.is_(False), m.User.disabled.is_(False))
        ).first()
        if row is not None and row[0] <= m.utcnow():
            return AccountError("account.token_expired", at=row[0].isoformat(sep=" ", timespec="minutes"))
    return AccountError("account.token_invalid")


def token_state(revoked: bool, expires_at: dt.datetime, now: dt.datetime) -> str:
    """active, expired or revoked."""
    return "revoked" if revoked else "expired" if expires_at <= now else "active"


def list_tokens(session: Session, name: str | None = None, now: dt.datetime | None = None,
                include_revoked: bool = True) -> list[dict]:
    """API tokens (never their hash), oldest first: id, user, state, created/expires/last used (UTC, ISO)."""
    now = now or m.utcnow()
    stmt = (select(m.ApiToken, m.User.name).join(m.User, m.User.id == m.ApiToken.user_id)
            .order_by(m.ApiToken.id))
    if name is not None:
        stmt = stmt.where(m.User.name == name)
    if not include_revoked:
        stmt = stmt.where(m.ApiToken.revoked.is_(False))

    def iso(value: dt.datetime | None) -> str | None:
        return value.isoformat(timespec="minutes") if value else None

    return [{"id": t.id, "user": user, "user_id": t.user_id, "state": token_state(t.revoked, t.expires_at, now),
             "created_at": iso(t.created_at), "expires_at": iso(t.expires_at), "last_used_at": iso(t.last_used_at)}
            for t, user in session.execute(stmt)]


def revoke_token(session: Session, token_id: int, user: str | None = None) -> dict:
    """Revoke one API token by id (of `user` when given); returns it as `list_tokens` shows it."""
    row = session.get(m.ApiToken, token_id) if 0 < token_id < 2**63 else None
    owner = session.get(m.User, row.user_id) if row is not None else None
    if row is None or owner is None or (user is not None and owner.name != user):
        raise UnknownAccount("account.unknown_token", id=token_id)
    row.revoked = True
    session.flush()
    return next(t for t in list_tokens(session, owner.name) if t["id"] == token_id)


def record_token_use(session: Session, token: str) -> None:
    """Store now as the token's last use."""
    session.execute(update(m.ApiToken).where(m.ApiToken.token_hash == sha256(token)).values(last_used_at=m.utcnow()))


# --- browser sessions -------------------------------------------------------------------------

def start_session(session: Session, user: m.User, lifetime: dt.timedelta = SESSION_LIFETIME) -> str:
    """A new random session id for the user (store only its hash); returned for the cookie."""
    sid = secrets.token_urlsafe(32)
    session.add(m.UserSession(id_hash=sha256(sid), user_id=user.id, expires_at=m.utcnow() + lifetime))
    session.flush()
    return sid


def user_for_session(session: Session, sid: str) -> m.User | None:
    """The enabled user of a live (unrevoked, unexpired) session id, else None."""
    if not sid or len(sid) > 200:
        return None
    return session.execute(_SESSION_USER, {"hash": sha256(sid), "now": m.utcnow()}).scalars().first()


def end_session(session: Session, sid: str) -> None:
    """Revoke one session server-side (logout)."""
    if sid:
        session.execute(update(m.UserSession).where(m.UserSession.id_hash == sha256(sid)).values(revoked=True))


def revoke_user_sessions(session: Session, user_id: int) -> int:
    """Revoke every session of a user; returns how many were live (unrevoked)."""
    result = session.execute(update(m.UserSession).where(m.UserSession.user_id == user_id,
                                                           m.UserSession.revoked.is_(False)).values(revoked=True))
    return result.rowcount or 0


# --- throttling -------------------------------------------------------------------------------

def sign_in_wait_for(session: Session, name: str, remote_addr: str | None, settings: ThrottleSettings = THROTTLE,
                     now: dt.datetime | None = None) -> dt.timedelta:
    """How long a sign-in to `name` from `remote_addr` must wait (0: check it now): account_rules.sign_in_wait over
    the failures recorded here."""
    now = now or m.utcnow()
    since = now - settings.window
    recent = m.LoginAttempt.at > since
    by_name = session.execute(select(m.LoginAttempt.remote_addr, m.LoginAttempt.at)
                              .where(recent, m.LoginAttempt.name == name[:100])).all()
    by_addr = session.scalars(select(m.LoginAttempt.at).where(recent, m.LoginAttempt.remote_addr == _addr(remote_addr))
                              ).all() if _addr(remote_addr) else []
    return sign_in_wait([(a, at) for a, at in by_name], by_addr, _addr(remote_addr), now, settings)


def is_throttled(session: Session, name: str, remote_addr: str | None, settings: ThrottleSettings = THROTTLE,
                 now: dt.datetime | None = None) -> bool:
    """True while a sign-in to `name` from `remote_addr` must wait (see account_rules)."""
    return sign_in_wait_for(session, name, remote_addr, settings, now) > dt.timedelta(0)


def retry_after(wait: dt.timedelta) -> str:
    """The Retry-After header value of a wait: whole seconds, at least 1."""
    return str(max(1, int(-(-wait.total_seconds() // 1))))


def _addr(remote_addr: str | None) -> str | None:
    return (remote_addr or "")[:64] or None


def record_failure(session: Session, name: str, remote_addr: str | None, at: dt.datetime | None = None) -> None:
    """Remember a failed sign-in (and drop attempts older than a day)."""
    at = at or m.utcnow()
    session.add(m.LoginAttempt(name=name[:100], remote_addr=_addr(remote_addr), at=at))
    session.execute(delete(m.LoginAttempt).where(m.LoginAttempt.at < at - dt.timedelta(days=1)))


def clear_failures(session: Session, name: str, remote_addr: str | None = None) -> None:
    """Forget the failed attempts of a name from this address after a successful sign-in (all of the name's when no
    address is known): a guesser elsewhere keeps its count."""
    where = [m.LoginAttempt.name == name[:100]]
    if _addr(remote_addr):
        where.append(m.LoginAttempt.remote_addr == _addr(remote_addr))
    session.execute(delete(m.LoginAttempt).where(*where))


# --- demo accounts ----------------------------------------------------------------------------

def demo_accounts(session: Session) -> list[tuple[str, str, str | None, str | None]]:
    """(name, role, street, utility) of the demo accounts for the streets present."""
    streets = session.scalars(select(m.Street.code).order_by(m.Street.code)).all()
    accounts: list[tuple[str, str, str | None, str | None]] = [("admin", "admin", None, None), ("bureau", "bureau", None, None)]
    accounts += [(f"officer_{code}", "street_officer", code, None) for code in streets]
    accounts.append(("state_company", "state_company", None, None))
    accounts += [(f"utility_{u}", "utility", None, u) for u in m.UTILITY_FACILITIES]
    accounts.append(("viewer", "viewer", None, None))
    return accounts


def is_demo_account(name: str) -> bool:
    """True for a demo account's name (`officer_<NBS code>` for any Kundulun street code)."""
    from geoplatform.reference import STREETS

    fixed = {"admin", "bureau", "state_company", "viewer", *(f"utility_{u}" for u in m.UTILITY_FACILITIES)}
    return name in fixed or name in {f"officer_{code}" for code, _, _ in STREETS}


def other_accounts(session: Session) -> list[str]:
    """Names of the accounts that are not demo accounts (real work: the demo keeps off them)."""
    return [n for n in session.scalars(select(m.User.name).order_by(m.User.name)) if not is_demo_account(n)]


def delete_users(session: Session, names: list[str]) -> int:
    """Delete accounts with their tokens and sessions (the demo's --replace); returns how many."""
    ids = session.scalars(select(m.User.id).where(m.User.name.in_(names))).all() if names else []
    if ids:
        session.execute(delete(m.ApiToken).where(m.ApiToken.user_id.in_(ids)))
        session.execute(delete(m.UserSession).where(m.UserSession.user_id.in_(ids)))
        session.execute(delete(m.User).where(m.User.id.in_(ids)))
    return len(ids)


def detach_street_users(session: Session) -> dict[int, str | tuple[str | None, str | None]]:
    """Before the demo replaces streets: unlink officers from streets (and communities); returns {user id:
    street} (a community officer: {user id: (street, community)})."""
    rows = session.execute(select(m.User.id, m.User.street_code, m.User.community_code).where(
        m.User.street_code.is_not(None) | m.User.community_code.is_not(None))).all()
    if rows:
        session.execute(update(m.User).where(m.User.id.in_([r[0] for r in rows])).values(street_code=None,
                                                                                      community_code=None))
    return {uid: (code, community) if community else code for uid, code, community in rows}


@dataclass
class DemoAccounts:
    """What `create_demo_users` did: the accounts created, those whose password was reset, those kept
    (their passwords untouched), and the password given to the created and reset ones."""

    password: str
    created: list[str]
    reset: list[str]
    kept: list[str]


def create_demo_users(session: Session, password: str | None = None, detached: dict[int, str] | None = None,
                      reset_passwords: bool = False) -> DemoAccounts:
    """Create the missing demo accounts with one shared password (given, else random).

    An existing demo account keeps its password, sessions and tokens unless `reset_passwords`
    (then it gets the shared password and its sessions end); its role and street are set again
    because the demo's streets were replaced.
    """
    password = password or secrets.token_urlsafe(9)
    check_password_strength(password)
    streets = set(session.scalars(select(m.Street.code)).all())
    for uid, code in (detached or {}).items():  # relink non-demo officers whose street (community) still exists
        if isinstance(code, tuple):
            community = session.get(m.Community, code[1])
            if community is not None:
                session.execute(update(m.User).where(m.User.id == uid).values(
                    street_code=community.street_code, community_code=community.code))
        elif code in streets:
            session.execute(update(m.User).where(m.User.id == uid).values(street_code=code))
    shared_hash: str | None = None
    done = DemoAccounts(password, [], [], [])
    for name, role, street, utility in demo_accounts(session):
        user = get_user(session, name)
        if user is None or reset_passwords:
            shared_hash = shared_hash or hash_password(password)  # one argon2id hash for all (same password)
        if user is None:
            add_user(session, name, role, password, street, utility, password_hash=shared_hash)
            done.created.append(name)
            continue
        user.role, user.street_code, user.utility = role, street, utility
        if reset_passwords:
            user.password_hash, user.disabled = shared_hash, False
            revoke_user_sessions(session, user.id)
            done.reset.append(name)
        else:
            done.kept.append(name)
    session.flush()
    return done
