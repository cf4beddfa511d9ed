from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Engine, inspect

from catalog.db import downgrade, upgrade
from catalog.tables import Base


def test_models_match_migrations(db_engine: Engine) -> None:
    with db_engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        assert compare_metadata(context, Base.metadata) == []


def test_downgrade_to_base_and_back(db_engine: Engine) -> None:
    downgrade(db_engine, "base")
    assert set(inspect(db_engine).get_table_names()) <= {"alembic_version"}
    upgrade(db_engine)
    assert set(Base.metadata.tables) <= set(inspect(db_engine).get_table_names())


def test_upgrade_is_idempotent(db_engine: Engine) -> None:
    upgrade(db_engine)
    upgrade(db_engine)
    assert "partners" in inspect(db_engine).get_table_names()
