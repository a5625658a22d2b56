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
from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from geoplatform import models as m
from geoplatform.principal import Principal

_hasher = PasswordHasher()  # argon2id, RFC 9106 low-memory profile (t=3, m=64 MiB, p=4)
_dummy: list[str] = []  # made on first need, not at import: every CLI start would pay one argon2 hash


def _dummy_hash() -> str:
    """A hash to verify against when the user does not exist, so timing does not reveal names."""
    if not _dummy:
        _dummy.append(_hasher.hash(secrets.token_hex(8)))
    return _dummy[0]

MIN_PASSWORD_LENGTH = 8
TOKEN_PREFIX = "gp_"


@dataclass(frozen=True)
class ThrottleSettings:
    """Login throttling thresholds."""

    window_minutes: int = 15  # [D] lockout window (OWASP ASVS 2.2.1: anti-automation)
    max_per_name: int = 5  # [D] failed attempts per account name within the window
    max_per_addr: int = 20  # [D] failed attempts per client address within the window

    @property
    def window(self) -> dt.timedelta:
        """The window as a timedelta."""
        return dt.timedelta(minutes=self.window_minutes)

    @classmethod
    def from_rules(cls, overrides: dict) -> ThrottleSettings:
        """Defaults overridden by config `[rules.auth]` (unknown keys ignored)."""
        return cls(**{k: int(v) for k, v in overrides.items() if k in cls.__dataclass_fields__})


SESSION_LIFETIME = dt.timedelta(hours=12)  # [D] absolute lifetime of a browser session
THROTTLE = ThrottleSettings()


class AccountError(ValueError):
    """Bad account input (unknown role, missing street, weak password, duplicate name …)."""


def sha256(text: str) -> str:
    """Hex SHA-256 of a text (tokens and session ids are stored this way)."""
    return hashlib.sha256(text.encode()).hexdigest()


def hash_password(password: str) -> str:
    """An argon2id hash of the password."""
    return _hasher.hash(password)


def principal_of(user: m.User) -> Principal:
    """The Principal the permission rules see for a user row."""
    return Principal(name=user.name, role=user.role, street_code=user.street_code, utility=user.utility, id=user.id)


def _validate(session: Session, role: str, street: str | None, utility: str | None) -> None:
    if role not in m.ROLES:
        raise AccountError(f"unknown role {role!r}; choose one of: {', '.join(m.ROLES)}")
    if role == "street_officer":
        if not street:
            raise AccountError("a street_officer needs --street")
        if session.get(m.Street, street) is None:
            raise AccountError(f"unknown street {street!r}")
    elif street:
        raise AccountError("--street is only for street_officer accounts")
    if role == "utility":
        if utility not in m.UTILITY_FACILITIES:
            raise AccountError(f"a utility account needs --utility, one of: {', '.join(m.UTILITY_FACILITIES)}")
    elif utility:
        raise AccountError("--utility is only for utility accounts")


def add_user(session: Session, name: str, role: str, password: str, street: str | None = None,
             utility: str | None = None, password_hash: str | None = None) -> m.User:
    """Create a user (AccountError on bad input or an existing name)."""
    name = (name or "").strip()
    if not name or len(name) > 100 or any(ch.isspace() for ch in name):
        raise AccountError("user name must be 1–100 characters without spaces")
    _validate(session, role, street, utility)
    if password_hash is None and len(password) < MIN_PASSWORD_LENGTH:
        raise AccountError(f"password must have at least {MIN_PASSWORD_LENGTH} characters")
    if get_user(session, name) is not None:
        raise AccountError(f"user {name!r} already exists")
    user = m.User(name=name, role=role, street_code=street, utility=utility,
                  password_hash=password_hash or hash_password(password), disabled=False)
    session.add(user)
    session.flush()
    return user


def get_user(session: Session, name: str) -> m.User | None:
    """The user with this name, if any."""
    return session.scalars(select(m.User).where(m.User.name == name)).first()


def set_disabled(session: Session, name: str, disabled: bool) -> m.User:
    """Disable (ending every session and token) or enable a user."""
    user = get_user(session, name)
    if user is None:
        raise AccountError(f"unknown user {name!r}")
    user.disabled = disabled
    if disabled:
        revoke_user_sessions(session, user.id)
        session.execute(update(m.ApiToken).where(m.ApiToken.user_id == user.id).values(revoked=True))
    session.flush()
    return user


def list_users(session: Session) -> list[dict]:
    """Every user as a plain dict (no hashes)."""
    rows = session.scalars(select(m.User).order_by(m.User.name)).all()
    tokens = {uid: (n, last) for uid, n, last in session.execute(
        select(m.ApiToken.user_id, func.count(), func.max(m.ApiToken.last_used_at))
        .where(m.ApiToken.revoked.is_(False)).group_by(m.ApiToken.user_id))}
    out = []
    for u in rows:
        n, last = tokens.get(u.id, (0, None))
        out.append({"name": u.name, "role": u.role, "street_code": u.street_code, "utility": u.utility,
                    "disabled": bool(u.disabled), "created_at": u.created_at.isoformat(timespec="seconds"),
                    "tokens": n, "token_last_used": last.isoformat(timespec="minutes") if last else None})
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


# --- API tokens -------------------------------------------------------------------------------

TOKEN_USE_GRANULARITY = dt.timedelta(minutes=1)  # last_used_at is kept to the minute: not a write per API call

def new_token(session: Session, name: str) -> str:
    """Create an API token for a user; the clear token is returned once, only its SHA-256 kept."""
    user = get_user(session, name)
    if user is None:
        raise AccountError(f"unknown user {name!r}")
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    session.add(m.ApiToken(user_id=user.id, token_hash=sha256(token)))
    session.flush()
    return token


def user_for_token(session: Session, token: str) -> m.User | None:
    """The enabled user owning an unrevoked token, else None."""
    found = token_login(session, token)
    return found[0] if found else None


def token_login(session: Session, token: str) -> tuple[m.User, bool] | None:
    """The token's enabled owner, and whether its use is worth recording (unrecorded for a minute or more).

    Reads only: an API call stays a read; the caller records the use with `record_token_use` in a
    short write of its own, at most once a minute per token.
    """
    if not token or len(token) > 200:
        return None
    row = session.execute(
        select(m.ApiToken.last_used_at, m.User).join(m.User, m.User.id == m.ApiToken.user_id)
        .where(m.ApiToken.token_hash == sha256(token), m.ApiToken.revoked.is_(False), m.User.disabled.is_(False))
    ).first()
    if row is None:
        return None
    last = row[0]
    return row[1], last is None or m.utcnow() - last >= TOKEN_USE_GRANULARITY


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
    row = session.execute(
        select(m.User).join(m.UserSession, m.UserSession.user_id == m.User.id)
        .where(m.UserSession.id_hash == sha256(sid), m.UserSession.revoked.is_(False),
               m.UserSession.expires_at > m.utcnow(), m.User.disabled.is_(False))
    ).scalars().first()
    return row


def end_session(session: Session, sid: str) -> None:
    """Revoke one session server-side (logout)."""
    if sid:
        session.execute(update(m.UserSession).where(m.UserSession.id_hash == sha256(sid)).values(revoked=True))


def revoke_user_sessions(session: Session, user_id: int) -> None:
    """Revoke every session of a user."""
    session.execute(update(m.UserSession).where(m.UserSession.user_id == user_id).values(revoked=True))


# --- throttling -------------------------------------------------------------------------------

def is_throttled(session: Session, name: str, remote_addr: str | None, settings: ThrottleSettings = THROTTLE) -> bool:
    """True when too many recent failed logins for this name or this address."""
    since = m.utcnow() - settings.window
    recent = m.LoginAttempt.at > since
    by_name = session.scalar(select(func.count()).select_from(m.LoginAttempt).where(recent, m.LoginAttempt.name == name))
    if by_name >= settings.max_per_name:
        return True
    if remote_addr:
        by_addr = session.scalar(select(func.count()).select_from(m.LoginAttempt)
                                 .where(recent, m.LoginAttempt.remote_addr == remote_addr))
        if by_addr >= settings.max_per_addr:
            return True
    return False


def record_failure(session: Session, name: str, remote_addr: str | None) -> None:
    """Remember a failed login (and drop attempts older than a day)."""
    session.add(m.LoginAttempt(name=name[:100], remote_addr=(remote_addr or "")[:64] or None))
    session.execute(delete(m.LoginAttempt).where(m.LoginAttempt.at < m.utcnow() - dt.timedelta(days=1)))


def clear_failures(session: Session, name: str) -> None:
    """Forget failed attempts for a name after a successful login."""
    session.execute(delete(m.LoginAttempt).where(m.LoginAttempt.name == name))


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


def detach_street_users(session: Session) -> dict[int, str]:
    """Before the demo replaces streets: unlink officers from streets; returns {user id: street}."""
    rows = session.execute(select(m.User.id, m.User.street_code).where(m.User.street_code.is_not(None))).all()
    if rows:
        session.execute(update(m.User).where(m.User.street_code.is_not(None)).values(street_code=None))
    return {uid: code for uid, code in rows}


def create_demo_users(session: Session, password: str | None = None, detached: dict[int, str] | None = None) -> str:
    """(Re)create the demo accounts with one shared password; returns the password."""
    password = password or secrets.token_urlsafe(9)
    if len(password) < MIN_PASSWORD_LENGTH:
        raise AccountError(f"password must have at least {MIN_PASSWORD_LENGTH} characters")
    streets = set(session.scalars(select(m.Street.code)).all())
    for uid, code in (detached or {}).items():  # relink non-demo officers whose street still exists
        if code in streets:
            session.execute(update(m.User).where(m.User.id == uid).values(street_code=code))
    shared_hash = hash_password(password)  # one argon2id hash for all demo accounts (same password)
    for name, role, street, utility in demo_accounts(session):
        user = get_user(session, name)
        if user is None:
            add_user(session, name, role, password, street, utility, password_hash=shared_hash)
        else:
            user.role, user.street_code, user.utility = role, street, utility
            user.password_hash, user.disabled = shared_hash, False
            revoke_user_sessions(session, user.id)
    session.flush()
    return password

