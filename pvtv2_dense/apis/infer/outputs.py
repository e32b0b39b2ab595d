"""Where ``tools/infer.py`` writes, checked before any model work: one name per input, nothing
a user made written over (unless ``--overwrite``), the folders writable, and no empty folder
left behind when nothing came out."""

import os
import os.path as osp
from collections import Counter

from ...errors import OutputError


def output_names(sources):
    """A unique output stem per source: the file stem, plus the extension where stems collide,
    plus a counter for the same file name in two folders."""
    stems = [s.stem for s in sources]
    counts = Counter(stems)
    names, seen = [], set()
    for source, stem in zip(sources, stems):
        ext = osp.splitext(source.location)[1][1:]
        name = f'{stem}_{ext}' if counts[stem] > 1 and ext else stem
        base, i = name, 1
        while name in seen:
            name, i = f'{base}_{i}', i + 1
        seen.add(name)
        names.append(name)
    return names


class OutputPlan:
    """The output folders of one run (``vis/``, and ``pred/`` with raw predictions).

    Args:
        out_dir (str): ``--out-dir``.
        save_raw (bool): whether ``pred/`` is written.
        overwrite (bool): ``--overwrite``: outputs of an earlier run may be written over.
    """

    def __init__(self, out_dir, save_raw, overwrite):
        self.out_dir = out_dir
        self.vis_dir = osp.join(out_dir, 'vis')
        self.raw_dir = osp.join(out_dir, 'pred')
        self.folders = (self.vis_dir, self.raw_dir) if save_raw else (self.vis_dir,)
        self.overwrite = overwrite
        self._created = []

    def check(self, names, sources):
        """Refuse, naming the file, an output that would replace an input or an earlier
        output, or a folder that is a file; then make the folders and check they are writable.

        Raises:
            OutputError: one of those.
        """
        inputs = {osp.realpath(s.location) for s in sources if s.kind in ('image', 'video')}
        for folder in (self.out_dir, *self.folders):
            if osp.exists(folder) and not osp.isdir(folder):
                raise OutputError(
                    f'--out-dir {self.out_dir}: {folder} is a file; expected a folder'
                )
        for folder in self.folders:
            if not osp.isdir(folder):
                continue
            for entry in sorted(os.listdir(folder)):
                path = osp.join(folder, entry)
                if osp.splitext(entry)[0] not in names:
                    continue
                if osp.realpath(path) in inputs:
                    raise OutputError(
                        f'--out-dir {self.out_dir} would overwrite the input {path}; choose '
                        'another --out-dir'
                    )
                if not self.overwrite:
                    raise OutputError(
                        f'--out-dir {self.out_dir}: {path} already exists (an earlier run?); '
                        'choose another --out-dir, or pass --overwrite to write over it'
                    )
        self._make_folders()

    def _make_folders(self):
        try:
            for folder in (self.out_dir, *self.folders):
                if not osp.isdir(folder):
                    os.makedirs(folder)
                    self._created.append(folder)
            for folder in self.folders:  # a probe file: permissions alone do not tell (root)
                probe = osp.join(folder, f'.infer-write-check-{os.getpid()}')
                open(probe, 'wb').close()
                os.remove(probe)
        except OSError as err:
            self.remove_empty()
            raise OutputError(
                f'--out-dir {self.out_dir}: cannot write {err.filename}: {err.strerror}'
            ) from None

    def remove_empty(self):
        """Remove the folders this run made that are still empty (deepest first)."""
        for folder in reversed(self._created):
            if osp.isdir(folder) and not os.listdir(folder):
                os.rmdir(folder)
        self._created = []
