"""firms: compound.company becomes a key of property_company; contracts, credit events, assessments,
rankings and fee disclosures (RULES §7)

The free-text `compound.property_company` becomes `compound.company`, a foreign key to
`property_company.name`. Each distinct text is matched to a stored firm: the same name, else the one
firm whose name core (without place prefixes, 物业/服务/有限公司 suffixes, spaces and punctuation) is
the same or contains / is contained in the text's core. A text matching no firm creates one (filing
unknown, source "0004 …"); a text matching several firms is ambiguous: the compound's company stays
empty and an audit event (action `migrate`, entity `compound`) keeps the text and the candidates, for
the bureau's 查漏补缺 list. A summary audit event counts matched / created / ambiguous.

SQLite cannot add a foreign key to an existing column nor rebuild a referenced table inside the
migration's transaction (foreign keys are enforced): the column is added with its REFERENCES clause and
the old one dropped, and declarations that leave the stored rows as they are (a type's length, NOT
NULL, a foreign key on downgrade) are edited in place as SQLite documents it.

Revision ID: 0004
Revises: 0007
"""
from __future__ import annotations

import datetime as dt
import json
import re
import unicodedata

import sqlalchemy as sa
from alembic import op

revision = '0004'
down_revision = '0007'
branch_labels = None
depends_on = None

FK = "fk_compound_company_property_company"
# SQLite: the new foreign key is declared after compound's last table constraint of 0001
_LAST_FK = "CONSTRAINT fk_compound_street_code_street FOREIGN KEY(street_code) REFERENCES street (code)"
_COMPANY_FK = f", \n\tCONSTRAINT {FK} FOREIGN KEY(company) REFERENCES property_company (name) ON UPDATE CASCADE"
_PREFIXES = ("内蒙古自治区", "内蒙古", "包头市", "包头", "昆都仑区", "昆区")
_SUFFIXES = ("有限责任公司", "股份有限公司", "有限公司", "分公司", "公司", "集团", "服务", "管理", "物业", "服务中心")
_PUNCT = re.compile(r"[\s()（）\[\]【】·.,，、\-—_'\"“”]+")


def _key(text: str) -> str:
    return _PUNCT.sub("", unicodedata.normalize("NFKC", text)).lower()


def _core(text: str) -> str:
    s = _key(text)
    changed = True
    while changed:
        changed = False
        for p in _PREFIXES:
            if s.startswith(p) and len(s) > len(p):
                s, changed = s[len(p):], True
        for x in _SUFFIXES:
            if s.endswith(x) and len(s) > len(x):
                s, changed = s[:-len(x)], True
    return s


def match(text: str, names: list[str]) -> list[str]:
    """The stored firm names a free-text firm matches (one: matched; none: create; several: ambiguous)."""
    if text in names:
        return [text]
    k = _key(text)
    same = [n for n in names if _key(n) == k]
    if same:
        return same
    c = _core(text)
    cores = {n: _core(n) for n in names}
    if len(c) < 2:
        return [n for n, nc in cores.items() if nc == c]
    return [n for n, nc in cores.items() if len(nc) >= 2 and (c in nc or nc in c)]


def _sqlite() -> bool:
    return op.get_bind().dialect.name == "sqlite"


def upgrade() -> None:
    # property_company: grades of any configured scale (AAA …), filing may be unknown, optimistic lock
    bind = op.get_bind()
    op.add_column('property_company', sa.Column('version', sa.Integer(), nullable=False, server_default='1'))
    if _sqlite():
        _edit_sqlite_table('property_company', [("credit_grade VARCHAR(2)", "credit_grade VARCHAR(8)"),
                                                ("filed BOOLEAN NOT NULL", "filed BOOLEAN"),
                                                (" DEFAULT '1'", "")])
        op.execute("ALTER TABLE compound ADD COLUMN company VARCHAR(200)")
        _edit_sqlite_table('compound', [(_LAST_FK, _LAST_FK + _COMPANY_FK)])
    else:
        op.alter_column('property_company', 'version', server_default=None, existing_type=sa.Integer())
        op.alter_column('property_company', 'credit_grade', existing_type=sa.String(length=2),
                        type_=sa.String(length=8), existing_nullable=True)
        op.alter_column('property_company', 'filed', existing_type=sa.Boolean(), nullable=True)
        op.add_column('compound', sa.Column('company', sa.String(length=200), nullable=True))
        op.create_foreign_key(op.f(FK), 'compound', 'property_company', ['company'], ['name'], onupdate='CASCADE')
    _migrate_names(bind)
    if _sqlite():
        op.execute("ALTER TABLE compound DROP COLUMN property_company")
    else:
        op.drop_column('compound', 'property_company')
    op.create_index(op.f('ix_compound_company'), 'compound', ['company'], unique=False)

    op.create_table('service_contract',
    sa.Column('id', sa.String(length=64), nullable=False),
    sa.Column('compound_id', sa.String(length=64), nullable=False),
    sa.Column('company', sa.String(length=200), nullable=False),
    sa.Column('start', sa.Date(), nullable=True),
    sa.Column('end', sa.Date(), nullable=True),
    sa.Column('selection_filed_on', sa.Date(), nullable=True),
    sa.Column('area_filed_on', sa.Date(), nullable=True),
    sa.Column('contract_filed_on', sa.Date(), nullable=True),
    sa.Column('acceptance_filed_on', sa.Date(), nullable=True),
    sa.Column('source', sa.String(length=200), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['company'], ['property_company.name'],
                            name=op.f('fk_service_contract_company_property_company'), onupdate='CASCADE'),
    sa.ForeignKeyConstraint(['compound_id'], ['compound.id'], name=op.f('fk_service_contract_compound_id_compound')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_service_contract'))
    )
    with op.batch_alter_table('service_contract', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_service_contract_company'), ['company'], unique=False)
        batch_op.create_index(batch_op.f('ix_service_contract_compound_id'), ['compound_id'], unique=False)

    op.create_table('firm_credit_event',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('company', sa.String(length=200), nullable=False),
    sa.Column('on', sa.Date(), nullable=False),
    sa.Column('kind', sa.String(length=32), nullable=False),
    sa.Column('grade', sa.String(length=8), nullable=True),
    sa.Column('expires_on', sa.Date(), nullable=True),
    sa.Column('source', sa.String(length=64), nullable=False),
    sa.Column('ref', sa.String(length=128), nullable=True),
    sa.Column('detail', sa.Text(), nullable=False),
    sa.Column('created_by', sa.String(length=100), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['company'], ['property_company.name'],
                            name=op.f('fk_firm_credit_event_company_property_company'), onupdate='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_firm_credit_event'))
    )
    with op.batch_alter_table('firm_credit_event', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_firm_credit_event_company'), ['company'], unique=False)

    op.create_table('firm_assessment',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('street_code', sa.String(length=9), nullable=False),
    sa.Column('quarter', sa.String(length=6), nullable=False),
    sa.Column('company', sa.String(length=200), nullable=False),
    sa.Column('score', sa.Float(), nullable=False),
    sa.Column('scored_by', sa.String(length=100), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['company'], ['property_company.name'],
                            name=op.f('fk_firm_assessment_company_property_company'), onupdate='CASCADE'),
    sa.ForeignKeyConstraint(['street_code'], ['street.code'], name=op.f('fk_firm_assessment_street_code_street')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_firm_assessment')),
    sa.UniqueConstraint('street_code', 'quarter', 'company',
                        name=op.f('uq_firm_assessment_street_code_quarter_company'))
    )
    with op.batch_alter_table('firm_assessment', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_firm_assessment_company'), ['company'], unique=False)
        batch_op.create_index(batch_op.f('ix_firm_assessment_quarter'), ['quarter'], unique=False)
        batch_op.create_index(batch_op.f('ix_firm_assessment_street_code'), ['street_code'], unique=False)

    op.create_table('firm_ranking',
    sa.Column('quarter', sa.String(length=6), nullable=False),
    sa.Column('published_on', sa.Date(), nullable=False),
    sa.Column('published_by', sa.String(length=100), nullable=False),
    sa.Column('good', sa.JSON(), nullable=False),
    sa.Column('bad', sa.JSON(), nullable=False),
    sa.Column('scores', sa.JSON(), nullable=False),
    sa.Column('streets', sa.JSON(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('quarter', name=op.f('pk_firm_ranking'))
    )

    op.create_table('fee_disclosure',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('compound_id', sa.String(length=64), nullable=False),
    sa.Column('start', sa.Date(), nullable=False),
    sa.Column('end', sa.Date(), nullable=False),
    sa.Column('source', sa.String(length=200), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['compound_id'], ['compound.id'], name=op.f('fk_fee_disclosure_compound_id_compound')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_fee_disclosure')),
    sa.UniqueConstraint('compound_id', 'start', name=op.f('uq_fee_disclosure_compound_id_start'))
    )
    with op.batch_alter_table('fee_disclosure', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_fee_disclosure_compound_id'), ['compound_id'], unique=False)


def _edit_sqlite_table(table: str, replacements: list[tuple[str, str]]) -> None:
    """Change a SQLite table's declaration in place (types, NOT NULL, defaults, foreign keys) without a rebuild.

    SQLite's documented procedure for changes that leave the stored rows as they are (sqlite.org/lang_altertable,
    "making other kinds of table schema changes"); a rebuild is impossible here: foreign keys are enforced and
    a migration is one transaction, so `PRAGMA foreign_keys` cannot be turned off.
    """
    bind = op.get_bind()
    sql = bind.exec_driver_sql("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = ?", (table,)).scalar()
    for old, new in replacements:
        if old not in sql:
            raise RuntimeError(f"0004: unexpected declaration of {table}: {old!r} not found")
        sql = sql.replace(old, new)
    version = bind.exec_driver_sql("PRAGMA schema_version").scalar()
    bind.exec_driver_sql("PRAGMA writable_schema = ON")
    bind.exec_driver_sql("UPDATE sqlite_master SET sql = ? WHERE type = 'table' AND name = ?", (sql, table))
    bind.exec_driver_sql(f"PRAGMA schema_version = {int(version) + 1}")
    bind.exec_driver_sql("PRAGMA writable_schema = OFF")


def _migrate_names(bind: sa.engine.Connection) -> None:
    """Free-text firms → keys: matched, created or (ambiguous) left empty with an audit event each."""
    texts = [r[0] for r in bind.execute(sa.text(
        "SELECT DISTINCT property_company FROM compound WHERE property_company IS NOT NULL"))]
    if not texts:
        return
    names = [r[0] for r in bind.execute(sa.text("SELECT name FROM property_company"))]
    now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    counts = {"matched": 0, "created": 0, "ambiguous": 0, "compounds": 0}
    for raw in texts:
        text = raw.strip()
        if not text:
            bind.execute(sa.text("UPDATE compound SET company = NULL WHERE property_company = :raw"), {"raw": raw})
            continue
        hits = match(text, names)
        if len(hits) == 1:
            firm = hits[0]
            counts["matched"] += 1
        elif not hits:
            firm = text[:200]
            bind.execute(sa.text(
                "INSERT INTO property_company (name, credit_grade, blacklisted, filed, state_owned, source, version) "
                "VALUES (:n, NULL, :f, NULL, :f, :s, 1)"),
                {"n": firm, "f": False, "s": "0004: from the compounds' free-text firm"})
            names.append(firm)
            counts["created"] += 1
        else:
            firm = None
            counts["ambiguous"] += 1
        ids = [r[0] for r in bind.execute(sa.text("SELECT id FROM compound WHERE property_company = :raw"),
                                          {"raw": raw})]
        counts["compounds"] += len(ids)
        bind.execute(sa.text("UPDATE compound SET company = :firm WHERE property_company = :raw"),
                     {"firm": firm, "raw": raw})
        if firm is None:
            for cid in ids:
                bind.execute(sa.text(
                    "INSERT INTO audit_event (at, user_name, action, entity, entity_id, outcome, before, after, detail) "
                    "VALUES (:at, 'migration', 'migrate', 'compound', :cid, 'ok', :before, :after, :detail)"),
                    {"at": now, "cid": cid, "before": json.dumps({"property_company": raw}, ensure_ascii=False),
                     "after": json.dumps({"company": None, "candidates": hits}, ensure_ascii=False),
                     "detail": f"0004 firm_ambiguous: {text!r} matches {len(hits)} firms"})
    bind.execute(sa.text(
        "INSERT INTO audit_event (at, user_name, action, entity, entity_id, outcome, before, after, detail) "
        "VALUES (:at, 'migration', 'migrate', 'property_company', NULL, 'ok', NULL, :after, :detail)"),
        {"at": now, "after": json.dumps(counts), "detail": "0004: compound firms became keys of property_company"})


def downgrade() -> None:
    op.drop_table('fee_disclosure')
    op.drop_table('firm_ranking')
    op.drop_table('firm_assessment')
    op.drop_table('firm_credit_event')
    op.drop_table('service_contract')
    op.drop_index(op.f('ix_compound_company'), table_name='compound')
    op.execute(sa.text("UPDATE property_company SET filed = :t WHERE filed IS NULL").bindparams(t=True))
    op.execute("UPDATE property_company SET credit_grade = NULL WHERE length(credit_grade) > 2")
    if _sqlite():
        _edit_sqlite_table('compound', [(_COMPANY_FK, "")])
        op.execute("ALTER TABLE compound RENAME COLUMN company TO property_company")
        op.execute("ALTER TABLE property_company DROP COLUMN version")
        _edit_sqlite_table('property_company', [("credit_grade VARCHAR(8)", "credit_grade VARCHAR(2)"),
                                                ("filed BOOLEAN,", "filed BOOLEAN NOT NULL,")])
    else:
        op.drop_constraint(op.f(FK), 'compound', type_='foreignkey')
        op.alter_column('compound', 'company', new_column_name='property_company')
        op.drop_column('property_company', 'version')
        op.alter_column('property_company', 'filed', existing_type=sa.Boolean(), nullable=False)
        op.alter_column('property_company', 'credit_grade', existing_type=sa.String(length=8),
                        type_=sa.String(length=2), existing_nullable=True)
