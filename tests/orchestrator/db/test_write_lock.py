"""WriteLock: SQLite trace writers of several processes take turns on a file lock; other
databases get a lock that does nothing."""

from __future__ import annotations

import subprocess
import sys
import threading
from pathlib import Path

import pytest
from sqlalchemy import create_engine

from orchestrator.db.write_lock import WriteLock


def test_the_lock_file_sits_beside_a_sqlite_file_only(tmp_path: Path) -> None:
    db = tmp_path / "symoe.db"
    assert WriteLock.for_engine(create_engine(f"sqlite:///{db}")).path == Path(f"{db}.write-lock")
    uri = create_engine(f"sqlite:///file:{db}?mode=rwc&uri=true")
    assert WriteLock.for_engine(uri).path == Path(f"{db}.write-lock")
    assert WriteLock.for_engine(create_engine("sqlite://")).path is None  # in memory
    postgres = create_engine("postgresql+psycopg2://postgres@127.0.0.1:5432/test")
    nothing = WriteLock.for_engine(postgres)
    with nothing:  # does nothing, creates nothing
        assert nothing.path is None


_CHILD = """
import sys
from pathlib import Path
from orchestrator.db.write_lock import WriteLock
lock = WriteLock(Path(sys.argv[1]))
print("ready", flush=True)
with lock:
    with open(sys.argv[2], "a") as out:
        out.write("child\\n")
"""


def test_a_second_process_waits_for_the_first_to_let_go(tmp_path: Path) -> None:
    lock = WriteLock(tmp_path / "db.write-lock")
    log = tmp_path / "log"
    with lock:
        child = subprocess.Popen(
            [sys.executable, "-c", _CHILD, str(lock.path), str(log)],
            stdout=subprocess.PIPE,
            text=True,
        )
        assert child.stdout is not None and child.stdout.readline() == "ready\n"
        with pytest.raises(subprocess.TimeoutExpired):  # it cannot get in meanwhile
            child.wait(1.0)
        assert not log.exists()
        log.write_text("parent\n")
    assert child.wait(60) == 0
    assert log.read_text() == "parent\nchild\n"
    lock.close()


def test_threads_of_one_process_take_turns_too(tmp_path: Path) -> None:
    """flock belongs to the open file, which the process's threads share: a thread lock
    keeps them apart."""
    lock = WriteLock(tmp_path / "db.write-lock")
    inside: list[int] = []
    most = [0]

    def work() -> None:
        for _ in range(200):
            with lock:
                inside.append(1)
                most[0] = max(most[0], len(inside))
                inside.pop()

    threads = [threading.Thread(target=work) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert most[0] == 1
    lock.close()


@pytest.mark.parametrize("error", [RuntimeError, KeyboardInterrupt])
def test_an_error_inside_lets_go(tmp_path: Path, error: type[BaseException]) -> None:
    lock = WriteLock(tmp_path / "db.write-lock")
    with pytest.raises(error), lock:
        raise error("inside")
    with lock:  # free again
        pass
    lock.close()
