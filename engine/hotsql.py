"""The hot path's statements (start, complete, timer firing): SQLAlchemy Core statements, executed cheaply.

On PostgreSQL with psycopg 3 each statement is compiled once per process and run on the raw DBAPI connection
of the caller's SQLAlchemy ``Connection`` (same connection, same transaction, same savepoints); psycopg
prepares it server-side after a few executions. That skips SQLAlchemy's per-execution work (execution
context, parameter processing, result metadata), about half of the client CPU of a statement. The engine's
tables use only types psycopg adapts natively (text, integers, booleans, aware datetimes), so the values
read and written are the same as through SQLAlchemy; driver errors are re-raised as the matching
``sqlalchemy.exc.DBAPIError`` subclass, as SQLAlchemy itself would.

Every other database (SQLite, the embedded default) runs the very same statements through
``Connection.execute``.
"""

from __future__ import annotations

import threading

from sqlalchemy import bindparam, insert
from sqlalchemy.exc import DBAPIError

try:  # psycopg is the production driver; SQLite-only installs may not have it
    from psycopg.rows import dict_row
except ImportError:  # pragma: no cover - exercised only without psycopg
    dict_row = None


def _fast(conn) -> bool:
    dialect = conn.dialect
    return dialect.name == "postgresql" and dialect.driver == "psycopg" and dict_row is not None


class Hot:
    """A Core statement compiled once per (dialect, parameter keys) for the raw psycopg path.

    No expanding (``IN``) parameters (the compiled text must be final) and no Python-side column defaults
    (the engine tables have server defaults only): the raw path sends exactly the parameters given.

    ``keys``: for INSERT/UPDATE statements whose VALUES come from the parameters, the column keys that
    will be given (the compiled form lists exactly these columns)."""

    __slots__ = ("stmt", "_compiled", "_lock")

    def __init__(self, stmt):
        self.stmt = stmt
        self._compiled: dict = {}
        self._lock = threading.Lock()

    def _pg(self, dialect, keys: tuple | None):
        hit = self._compiled.get(keys)
        if hit is None:
            compiled = self.stmt.compile(dialect=dialect, column_keys=list(keys) if keys is not None else None)
            hit = (str(compiled), compiled)
            with self._lock:
                self._compiled[keys] = hit
        return hit

    # --------------------------------------------------------------------------------- raw psycopg path
    @staticmethod
    def _cursor(conn):
        if not conn.in_transaction():  # what Connection.execute's autobegin would do
            conn.begin()
        return conn.connection.driver_connection.cursor(row_factory=dict_row)

    def _run(self, conn, params: dict, keys: tuple | None):
        sql, compiled = self._pg(conn.dialect, keys)
        return self._execute(conn, sql, compiled.construct_params(params, escape_names=True))

    # ----------------------------------------------------------------------------------------- API
    def first(self, conn, params: dict) -> dict | None:
        """The first row as a dict (or None)."""
        if _fast(conn):
            return self._run(conn, params, None).fetchone()
        row = conn.execute(self.stmt, params).mappings().first()
        return dict(row) if row is not None else None

    def all(self, conn, params: dict) -> list[dict]:
        if _fast(conn):
            return self._run(conn, params, None).fetchall()
        return [dict(r) for r in conn.execute(self.stmt, params).mappings()]

    def scalar(self, conn, params: dict, *, keys: tuple | None = None):
        """First column of the first row (e.g. an INSERT ... RETURNING id)."""
        if _fast(conn):
            row = self._run(conn, params, keys).fetchone()
            return next(iter(row.values())) if row is not None else None
        return conn.execute(self.stmt, params).scalar()

    def rowcount(self, conn, params: dict, *, keys: tuple | None = None) -> int:
        """Execute an UPDATE/DELETE; the number of rows it matched."""
        if _fast(conn):
            return self._run(conn, params, keys).rowcount
        return conn.execute(self.stmt, params).rowcount

    def insert_many(self, conn, rows: list[dict], *, returning: bool = False) -> list | None:
        """INSERT every row (all rows have the same keys); with ``returning`` the first RETURNING column of
        each row, in parameter order.

        Fast path: one multi-row ``INSERT ... VALUES (...), (...)`` per chunk of rows (rows are numbered in
        the order given, as the sequence is drawn row by row); a RETURNING insert of several rows uses
        ``executemany`` so the ids come back in parameter order."""
        if not rows:
            return [] if returning else None
        if not _fast(conn):
            if returning:
                return list(conn.execute(self.stmt, rows).scalars().all())
            conn.execute(self.stmt, rows)
            return None
        keys = tuple(rows[0])
        if returning and len(rows) == 1:
            return [self.scalar(conn, rows[0], keys=keys)]
        if returning:
            sql, compiled = self._pg(conn.dialect, keys)
            params = [compiled.construct_params(r, escape_names=True) for r in rows]
            cur = self._execute(conn, sql, params, many=True)
            out = []
            while True:
                out.extend(next(iter(r.values())) for r in cur.fetchall())
                if not cur.nextset():
                    break
            return out
        for start in range(0, len(rows), _CHUNK):
            chunk = rows[start:start + _CHUNK]
            sql, names = self._multi(conn.dialect, keys, len(chunk))
            params = {}
            for i, row in enumerate(chunk):
                for key, name in zip(keys, names[i], strict=True):
                    params[name] = row[key]
            self._execute(conn, sql, params)
        return None

    def _multi(self, dialect, keys: tuple, n: int):
        """``INSERT INTO t (keys) VALUES (...) x n`` for the raw path; (sql, per-row parameter names)."""
        hit = self._compiled.get((keys, n))
        if hit is None:
            names = [tuple(f"{k}__{i}" for k in keys) for i in range(n)]
            table = self.stmt.table
            stmt = insert(table).values([{k: bindparam(name, type_=table.c[k].type)
                                          for k, name in zip(keys, row_names, strict=True)}
                                         for row_names in names])
            hit = (str(stmt.compile(dialect=dialect)), names)
            with self._lock:
                self._compiled[(keys, n)] = hit
        return hit

    def _execute(self, conn, sql, params, *, many: bool = False):
        cur = self._cursor(conn)
        try:
            if many:
                cur.executemany(sql, params, returning=True)
            else:
                cur.execute(sql, params)
        except conn.dialect.loaded_dbapi.Error as exc:
            raise DBAPIError.instance(sql, params, exc, conn.dialect.loaded_dbapi.Error,
                                      dialect=conn.dialect, ismulti=many) from exc
        return cur


_CHUNK = 50
