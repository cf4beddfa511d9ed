from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Engine, inspect

from catalog.db import downgrade, upgrade
from catalog.tables import Base


def test_models_match_migrations(database: Engine) -> None:
    with database.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        assert compare_metadata(context, Base.metadata) == []


def test_downgrade_to_base_and_back(database: Engine) -> None:
    downgrade(database, "base")
    assert set(inspect(database).get_table_names()) <= {"alembic_version"}
    upgrade(database)
    assert set(Base.metadata.tables) <= set(inspect(database).get_table_names())


def test_upgrade_is_idempotent(database: Engine) -> None:
    upgrade(database)
    upgrade(database)
    assert "partners" in inspect(database).get_table_names()
