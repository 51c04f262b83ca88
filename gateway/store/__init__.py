"""Storage: the only package that imports SQLAlchemy. Tables, queries and Alembic migrations."""
