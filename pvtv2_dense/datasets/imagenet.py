"""ImageNet-layout classification data: ``train/<wnid>/*.JPEG``, ``val/...``, ``meta/*.txt``.

The layout is the one mmpretrain's ``ImageNet`` dataset reads: an annotation file lists one
``relative/path.JPEG label`` per line (``meta/train.txt``, ``meta/val.txt``), or, without one,
every sub-folder of the image folder is a class (sorted names, labels 0, 1, ...). Bad data stops
the run with one line naming the file: a class folder without images, a listed file that does
not exist, a label outside ``[0, num_classes)``; ``CheckedLoadImage`` (``transforms/``) names an
unreadable image.
"""

import os
import os.path as osp

import numpy as np
from mmengine.dataset import BaseDataset

from ..errors import DataError
from .checks import CheckedSamplesMixin, checked_dataset
from .confine import confined_join

IMG_EXTENSIONS = ('.jpg', '.jpeg', '.png', '.ppm', '.bmp', '.pgm', '.tif', '.tiff', '.webp')


@checked_dataset()
class ImageNetFolder(CheckedSamplesMixin, BaseDataset):
    """Image classification from an ImageNet-style folder and annotation list.

    Args:
        data_root (str): the dataset folder (with ``train/``, ``val/``, ``meta/``).
        ann_file (str): annotation list relative to ``data_root`` (e.g. ``meta/val.txt``), or ''
            to take the classes from the sub-folders of the image folder. Defaults to ''.
        data_prefix (dict): ``dict(img_path='train')``: the image folder. Defaults to that.
        num_classes (int, optional): labels must lie in ``[0, num_classes)``; defaults to the
            number of ``metainfo['classes']``, or of folders, when known.
        **kwargs: other :class:`mmengine.dataset.BaseDataset` options (pipeline, test_mode...).
    """

    sample_file_keys = ('img_path',)

    def __init__(
        self,
        data_root: str,
        ann_file: str = '',
        data_prefix: dict | None = None,
        num_classes: int | None = None,
        **kwargs,
    ):
        self.num_classes = num_classes
        super().__init__(
            ann_file=ann_file,
            data_root=data_root,
            data_prefix=data_prefix or dict(img_path='train'),
            **kwargs,
        )

    def _folder_classes(self, root):
        if not osp.isdir(root):
            raise DataError(f'image folder {root} does not exist')
        classes = sorted(d for d in os.listdir(root) if osp.isdir(osp.join(root, d)))
        if not classes:
            raise DataError(f'image folder {root} has no class sub-folders (expected <wnid>/*)')
        return classes

    def _scan(self, root, classes):
        items = []
        for label, name in enumerate(classes):
            confined_join(root, name, 'metainfo classes', 'class folder')
            if not osp.isdir(osp.join(root, name)):
                raise DataError(
                    f'class folder {osp.join(root, name)} does not exist (class {label} of '
                    f'{len(classes)} in metainfo classes)'
                )
            files = sorted(
                f for f in os.listdir(osp.join(root, name)) if f.lower().endswith(IMG_EXTENSIONS)
            )
            if not files:
                raise DataError(f'class folder {osp.join(root, name)} holds no images')
            items += [(osp.join(name, f), label) for f in files]
        return items

    def _read_list(self, root):
        items = []
        with open(self.ann_file) as f:
            for n, line in enumerate(f, 1):
                if not line.strip():
                    continue
                parts = line.rsplit(maxsplit=1)
                if len(parts) != 2 or not parts[1].lstrip('-').isdigit():
                    raise DataError(
                        f'{self.ann_file} line {n}: {line.strip()!r}; expected "PATH LABEL"'
                    )
                path, label = parts[0], int(parts[1])
                confined_join(root, path, f'{self.ann_file} line {n}', 'image path')
                if not osp.isfile(osp.join(root, path)):
                    raise DataError(
                        f'{self.ann_file} line {n} lists {osp.join(root, path)}, which does '
                        'not exist'
                    )
                items.append((path, label, n))
        return items

    def check_sample_files(self, data_list):
        """Nothing more: the list reader checked each listed file, naming the list and line."""

    def load_data_list(self):
        root = self.data_prefix['img_path']
        classes = self._metainfo.get('classes')
        if self.ann_file and not osp.isfile(self.ann_file):
            raise DataError(f'annotation file {self.ann_file} does not exist')
        if self.ann_file:
            items = self._read_list(root)
        else:
            classes = classes or self._folder_classes(root)
            items = [(p, label, None) for p, label in self._scan(root, classes)]
        if classes:
            self._metainfo['classes'] = tuple(classes)
        limit = self.num_classes or (len(classes) if classes else None)
        for path, label, line in items:
            if label < 0 or (limit is not None and label >= limit):
                where = f'{self.ann_file} line {line}' if line else osp.join(root, path)
                raise DataError(
                    f'{where}: label {label} outside [0, {limit}) (num_classes={limit})'
                )
        return [
            dict(img_path=osp.join(root, path), gt_label=np.int64(label))
            for path, label, _ in items
        ]
