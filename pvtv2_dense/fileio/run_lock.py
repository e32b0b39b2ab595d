"""One run per work dir: a lock file that names its holder.

``WORK_DIR/.run.lock`` holds the host name, process id and process start time of the run that
owns the folder. It is created with a hard link from a finished temporary file, so it exists
complete or not at all. A second run is refused in one line naming the holder; a lock left by a
process that no longer runs on this host (killed, crashed) is taken over with a warning line. A
lock from another host cannot be checked and is refused (remove it by hand once sure).
"""

import atexit
import json
import os
import os.path as osp
import socket
import sys

from ..errors import OutputError

LOCK_NAME = '.run.lock'


def _start_time(pid):
    """The process's start time in clock ticks (Linux ``/proc``), or None: tells a live holder
    from a new process that reuses its id."""
    try:
        with open(f'/proc/{pid}/stat') as f:
            # The command name (field 2) may hold spaces; the fields after ')' do not.
            return int(f.read().rsplit(')', 1)[1].split()[19])
    except (OSError, IndexError, ValueError):
        return None


def _alive(pid, started):
    """Whether process ``pid`` (started at ``started``, if known) still runs on this host."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # it exists, under another user
        return True
    now = _start_time(pid)
    return started is None or now is None or now == started


def _read(path):
    try:
        with open(path) as f:
            return json.load(f)
    except (OSError, ValueError):
        return None


class RunLock:
    """The lock on a work dir, held by this process until :meth:`release` (or its exit).

    Args:
        work_dir (str): the run's folder (created if missing).
        option (str): how the user gave it, for messages.
    """

    def __init__(self, work_dir, option='--work-dir'):
        self.work_dir, self.option = work_dir, option
        self.path = osp.join(work_dir, LOCK_NAME)
        self.held = False

    def _record(self):
        pid = os.getpid()
        return dict(host=socket.gethostname(), pid=pid, started=_start_time(pid))

    def _try_create(self):
        """Create the lock atomically with its content; False when one exists already."""
        tmp = f'{self.path}.{os.getpid()}.tmp'
        with open(tmp, 'w') as f:
            json.dump(self._record(), f)
        try:
            os.link(tmp, self.path)
            return True
        except FileExistsError:
            return False
        finally:
            os.remove(tmp)

    def acquire(self):
        """Take the lock, or raise :class:`OutputError` naming the run that holds it.

        Returns:
            RunLock: self.
        """
        try:
            os.makedirs(self.work_dir, exist_ok=True)
            if self._try_create():
                return self._held()
        except OSError as err:
            raise OutputError(
                f'{self.option} {self.work_dir} cannot be written: {err.strerror or err}'
            ) from None
        holder = _read(self.path)
        here = socket.gethostname()
        if holder is None:
            what = 'an unreadable lock'
        elif holder.get('host') != here:
            what = f'a run on host {holder.get("host")} (pid {holder.get("pid")})'
        elif _alive(int(holder.get('pid', -1)), holder.get('started')):
            what = f'a running process (pid {holder["pid"]} on {here})'
        else:
            print(
                f'warning: {self.path}: taking over the lock of pid {holder["pid"]} on {here}, '
                'which no longer runs (killed or crashed)',
                file=sys.stderr,
            )
            os.remove(self.path)
            if self._try_create():
                return self._held()
            holder, what = _read(self.path), 'a run that started just now'
        raise OutputError(
            f'{self.option} {self.work_dir} is in use by {what} (lock file {self.path}); wait '
            'for it to finish or choose another work dir; remove the lock file only if no run '
            'uses the folder'
        )

    def _held(self):
        self.held = True
        atexit.register(self.release)
        return self

    def release(self):
        """Remove the lock if this process holds it (a no-op otherwise)."""
        if not self.held:
            return
        self.held = False
        holder = _read(self.path)
        if (
            holder
            and holder.get('pid') == os.getpid()
            and holder.get('host') == socket.gethostname()
        ):
            try:
                os.remove(self.path)
            except OSError:
                pass

    def __enter__(self):
        return self.acquire()

    def __exit__(self, *exc):
        self.release()
