"""The MARAC's store: SQLAlchemy models, the unit of work and Alembic migrations."""
