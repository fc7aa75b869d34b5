"""Engine, sessions and schema management (Alembic) for SQLite and Postgres."""

from __future__ import annotations

import ast
import threading
import time
from collections.abc import Callable, Collection, Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast
from weakref import WeakKeyDictionary

from sqlalchemy import ColumnElement, Connection, CursorResult, Engine, Result, any_, bindparam, create_engine, event, exc, inspect, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import make_url
from sqlalchemy.orm import QueryableAttribute, Session, sessionmaker

import migrations

if TYPE_CHECKING:
    from alembic.config import Config

MIGRATIONS_DIR = Path(migrations.__file__).parent


def normalise_url(url: str) -> str:
    """postgres:// and postgresql:// mean psycopg 3 here (SQLAlchemy would pick psycopg2)."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def make_engine(url: str) -> Engine:
    url = normalise_url(url)
    if make_url(url).get_backend_name() == "sqlite":
        engine = create_engine(url, connect_args={"timeout": 30, "check_same_thread": False})
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    engine = create_engine(url)
    event.listen(engine, "connect", _postgres_settings)
    _check_when_idle(engine)
    return engine


# A connection from the pool is checked before use (one round trip: `SELECT 1`), so that one the
# server dropped (a restart, a failover, an idle timeout) is replaced rather than failed on, the
# check SQLAlchemy's pool_pre_ping makes at every checkout; here, only when the connection sat
# unused in the pool for this long. Under load every connection is back in use within
# milliseconds, and the check was one more round trip before every statement or session (a
# commitment form's answer on Postgres, served at 1,000 initiatives: 1.66× the bare Bolt app with
# it, 1.50× without).
CHECK_AFTER_IDLE = 1.0  # seconds
_RETURNED = "cdo_hub_returned_at"


def _check_when_idle(engine: Engine) -> None:
    dialect = engine.dialect

    def returned(_dbapi_connection: Any, record: Any) -> None:
        record.info[_RETURNED] = time.monotonic()

    def check(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        since = record.info.get(_RETURNED)  # none yet: a connection just opened
        if since is None or time.monotonic() - since < CHECK_AFTER_IDLE:
            return
        try:
            dialect.do_ping(dbapi_connection)
        except Exception as error:  # as pool_pre_ping does: this connection and all older ones go
            raise exc.InvalidatePoolError(f"a pooled connection failed its check ({type(error).__name__})") from error

    event.listen(engine, "checkin", returned)
    event.listen(engine, "checkout", check)


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.close()


def _postgres_settings(dbapi_connection: Any, _record: Any) -> None:
    # No JIT compilation: Postgres compiles a statement whose estimated cost passes
    # jit_above_cost, and the hub's larger reads pass it (a lead's roadmap, a sweep's batch)
    # while they take tens of milliseconds; compiling cost more than it saved (measured at
    # 10,000 initiatives: a lead's roadmap statements 235 ms with it, 136 ms without).
    if dbapi_connection.info.server_version < 110000:
        return  # before Postgres 11 there is no JIT, nor its setting
    with dbapi_connection.cursor() as cursor:
        cursor.execute("SET jit = off")
    dbapi_connection.commit()  # a SET rolled back with its transaction would be undone


def make_sessionmaker(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)


def rowcount(result: Result[Any]) -> int:
    """Rows an UPDATE or DELETE changed (SQLAlchemy types `execute` as a plain Result)."""
    return cast(CursorResult[Any], result).rowcount or 0


def insert_for(where: Session | Connection) -> Callable[..., Any]:
    """The dialect's INSERT, which knows ON CONFLICT (both SQLite and Postgres have it)."""
    dialect = where.dialect if isinstance(where, Connection) else where.get_bind().dialect
    return postgresql.insert if dialect.name == "postgresql" else sqlite.insert


def among(session: Session, column: QueryableAttribute[Any], values: Collection[Any]) -> ColumnElement[bool]:
    """`column IN values`. On Postgres, one array parameter (`= ANY`): an IN list is one
    parameter per value, and a statement of 500 of them is written out, sent and parsed anew
    for each batch, while with an array it is the same statement whatever the batch."""
    if session.get_bind().dialect.name == "postgresql":
        return column == any_(bindparam(None, list(values), type_=postgresql.ARRAY(column.type)))
    return column.in_(values)


# SQLite lets one connection write at a time, and a connection that finds the file locked
# sleeps and looks again, ever longer (up to 100 ms a time), while others may take the lock
# before it: under load a short write could wait a second. The threads of one process take
# their turns at writing here instead, in order and woken at once. (Postgres locks rows.)
_sqlite_writers: WeakKeyDictionary[Engine, threading.RLock] = WeakKeyDictionary()
_sqlite_writers_lock = threading.Lock()


def _writer_lock(bind: sessionmaker[Session] | Engine) -> AbstractContextManager[object]:
    engine = bind if isinstance(bind, Engine) else bind.kw.get("bind")
    if not isinstance(engine, Engine) or engine.dialect.name != "sqlite":
        return nullcontext()
    with _sqlite_writers_lock:
        return _sqlite_writers.setdefault(engine, threading.RLock())


_inside = threading.local()


def in_transaction() -> bool:
    """This thread is inside `transaction()`, where it may hold what other threads wait for
    (SQLite's turn at writing, rows locked on Postgres)."""
    return bool(getattr(_inside, "depth", 0))


@contextmanager
def transaction(factory: sessionmaker[Session]) -> Iterator[Session]:
    """One unit of work: committed when the block ends, rolled back if it raises."""
    _inside.depth = getattr(_inside, "depth", 0) + 1
    try:
        with _writer_lock(factory), factory() as session, session.begin():
            yield session
    finally:
        _inside.depth -= 1


_autocommitting: WeakKeyDictionary[Engine, Engine] = WeakKeyDictionary()


def _one_at_a_time(engine: Engine) -> Engine:
    """The engine whose statements are each their own transaction on Postgres (autocommit: no
    BEGIN and no COMMIT or ROLLBACK, each one more round trip); on SQLite, the engine itself."""
    found = _autocommitting.get(engine)
    if found is None:
        postgres = engine.dialect.name == "postgresql"
        found = _autocommitting[engine] = engine.execution_options(isolation_level="AUTOCOMMIT") if postgres else engine
    return found


@contextmanager
def reading(engine: Engine) -> Iterator[Connection]:
    """A plain connection for a read or two before Slack is answered: no ORM session, and on
    Postgres no transaction around them. Each statement sees what was committed when it ran.
    (A commitment form's checks on Postgres: 1.05 ms of CPU through a session each for the
    initiative and the person, 0.38 ms here.)"""
    with _one_at_a_time(engine).connect() as connection:
        yield connection


@contextmanager
def one_statement(engine: Engine) -> Iterator[Connection]:
    """A plain connection for one statement that writes, which is its own transaction: on
    Postgres in autocommit, on SQLite in a transaction holding this process's turn at writing.
    For a write before Slack is answered (a reply kept), where an ORM session and a transaction
    around it cost more than the statement (on Postgres, in process: 0.36 ms of CPU and 0.75 ms
    in all with BEGIN and COMMIT, 0.31 ms and 0.60 ms without)."""
    _inside.depth = getattr(_inside, "depth", 0) + 1
    try:
        if engine.dialect.name == "sqlite":
            with _writer_lock(engine), engine.begin() as connection:
                yield connection
        else:
            with _one_at_a_time(engine).connect() as connection:
                yield connection
    finally:
        _inside.depth -= 1


# --- schema --------------------------------------------------------------------------------


# Alembic is imported only to change the schema: importing it costs every command and every
# start of `serve` about 0.1 s of CPU, and reading where the schema stands needs none of it.


def alembic_config(url: str) -> Config:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    # ConfigParser interpolation would choke on the % of URL-encoded passwords.
    config.set_main_option("sqlalchemy.url", normalise_url(url).replace("%", "%%"))
    return config


def upgrade(url: str, revision: str = "head") -> None:
    from alembic import command

    command.upgrade(alembic_config(url), revision)


def downgrade(url: str, revision: str = "base") -> None:
    from alembic import command

    command.downgrade(alembic_config(url), revision)


@dataclass(frozen=True)
class SchemaStatus:
    current: str | None
    head: str
    empty: bool  # no table of ours at all: a fresh database

    @property
    def up_to_date(self) -> bool:
        return self.current == self.head


VERSION_TABLE = "alembic_version"  # where Alembic keeps the revision a database is at (its default name)


def schema_status(engine: Engine) -> SchemaStatus:
    with engine.connect() as connection:
        tables = set(inspect(connection).get_table_names())
        found = connection.execute(text(f"SELECT version_num FROM {VERSION_TABLE}")).scalars().all() if VERSION_TABLE in tables else []
    # One row on a linear history; none before the first upgrade (or after a downgrade to base).
    current = ", ".join(sorted(found)) or None
    return SchemaStatus(current=current, head=schema_head(), empty=not (tables - {VERSION_TABLE}))


def schema_head() -> str:
    """The newest revision of the migrations: the one no other revision follows. Read from the
    `revision` and `down_revision` each script assigns once, plainly (as
    migrations/script.py.mako writes them), without running the scripts, which import Alembic;
    Alembic's own reading (which may fail, and say why) when a script says them any other way
    or cannot be read here, and when they do not make one line of revisions."""
    try:
        follows = _revisions()
    except (OSError, SyntaxError, ValueError, TypeError):
        follows = None
    if follows is None:
        return _alembic_head()
    heads = set(follows) - set(follows.values())
    if len(heads) != 1 or _steps_down(follows, next(iter(heads))) != len(follows):
        return _alembic_head()
    return heads.pop()


def _steps_down(follows: dict[str, str | None], head: str) -> int | None:
    """How many revisions there are from `head` down to the first (whose down_revision is
    None); None when the line leads to a revision no script has, or goes round in a loop."""
    steps, revision = 0, head
    while steps <= len(follows):
        if revision not in follows:
            return None
        steps, down = steps + 1, follows[revision]
        if down is None:
            return steps
        revision = down
    return None


def _revisions() -> dict[str, str | None] | None:
    """Each script's revision and the one it follows; None when a script does not say them
    plainly. The scripts Alembic reads: not __init__.py, nor an editor's lock file (.#…)."""
    follows: dict[str, str | None] = {}
    for script in sorted((MIGRATIONS_DIR / "versions").glob("*.py")):
        if script.name.startswith(("__init__", ".#")):
            continue
        said = _assigned(ast.parse(script.read_bytes()), ("revision", "down_revision"))  # bytes: BOM and coding line honoured
        if said is None or set(said) != {"revision", "down_revision"}:
            return None
        revision, down = said["revision"], said["down_revision"]
        if not isinstance(revision, str) or not (down is None or isinstance(down, str)) or revision in follows:
            return None  # a merge of several revisions, a revision twice, or stranger
        follows[revision] = down
    return follows


def _assigned(module: ast.Module, names: tuple[str, ...]) -> dict[str, object] | None:
    """The literal value a module assigns to each of these names, when it assigns each of them
    once, at its top level, with `=`; None when it binds one of them any other way."""
    found: dict[str, object] = {}
    for node in module.body:
        if isinstance(node, ast.Assign) and len(node.targets) == 1:
            target, value = node.targets[0], node.value
        elif isinstance(node, ast.AnnAssign) and node.value is not None:
            target, value = node.target, node.value
        else:
            continue
        if isinstance(target, ast.Name) and target.id in names and target.id not in found:
            found[target.id] = ast.literal_eval(value)
    bound = [node for node in ast.walk(module) if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store) and node.id in names]
    return found if len(bound) == len(found) else None


def _alembic_head() -> str:
    from alembic.script import ScriptDirectory

    return ScriptDirectory(str(MIGRATIONS_DIR)).get_current_head() or ""


def ping(engine: Engine) -> bool:
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
        return True
    except Exception:  # any failure means "the database does not answer"
        return False
