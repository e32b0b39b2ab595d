"""The label-value traps of segmentation data, caught when the dataset is built.

mmseg trains silently on label maps that do not mean what the config says. The common cases:

- a binary mask saved as 0/255: 255 is the ignore index, so every foreground pixel is ignored
  and the model learns "background everywhere";
- ``reduce_zero_label=True`` on maps whose 0 is a real class (0/1 binary masks): 0 becomes the
  ignore index and 1 becomes class 0, so the last class never appears;
- labels above the class count (too few ``classes``, or classes 1..N without
  ``reduce_zero_label``), or a colour (RGB) mask instead of a map of class indices.

:func:`label_problem` reads a few annotation maps, spread over the dataset, and returns one line
naming the file and what to set, or '' when the values fit.
"""

import os.path as osp

import mmcv
import numpy as np

# How many annotation maps the check reads: spread over the list, cheap next to one epoch.
SCAN_FILES = 16
# More out-of-range values than this in one dataset reads as an interpolated map, not as a few
# missing classes; the message then shows this many of them.
INTERPOLATED_VALUES = 8
SHOWN_VALUES = 4


def spread(items, count=SCAN_FILES):
    """Up to ``count`` items evenly spaced over ``items``, first and last included."""
    if len(items) <= count:
        return list(items)
    return [items[round(i * (len(items) - 1) / (count - 1))] for i in range(count)]


def read_label_map(path):
    """The map as mmseg's ``LoadAnnotations`` decodes it (pillow, unchanged: palette indices),
    or None when the file does not decode."""
    with open(path, 'rb') as f:
        content = f.read()
    try:
        return mmcv.imfrombytes(content, flag='unchanged', backend='pillow')
    except Exception:  # noqa: BLE001  (pillow raises several types for a file it cannot read)
        return None


def interpolation_advice(where, bad, num_classes, ignore_index, in_file=None):
    """The message for a map holding many values outside the classes, or '' for a few.

    A label map resized with bilinear (or any non-nearest) interpolation, or saved as JPEG,
    holds values between its classes along every edge: many distinct values, mostly out of
    range. Listing them all and blaming ``classes`` would mislead.

    Args:
        where (str): ``'annotation PATH'``.
        bad (list[int]): the out-of-range values (sorted), as the check sees them.
        num_classes (int): the number of classes.
        ignore_index (int): the ignore index.
        in_file (list[int], optional): the same values as stored in the file (before
            ``reduce_zero_label``), shown instead when given.

    Returns:
        str: one line saying what happened and how to fix it; '' when ``bad`` is short.
    """
    if len(bad) <= INTERPOLATED_VALUES:
        return ''
    shown = in_file if in_file is not None else bad
    head = ', '.join(str(v) for v in shown[: SHOWN_VALUES - 1])
    return (
        f'{where} holds {len(bad)} distinct values outside the classes 0..{num_classes - 1} '
        f'and the ignore index {ignore_index} ({head}, ..., {shown[-1]} in the file): values '
        'between classes, as left by resizing a label map with bilinear interpolation or '
        'saving it as JPEG; resize label maps with nearest-neighbour interpolation and save '
        'them as PNG'
    )


def _binary_advice(where, ignore_index, reduce_zero_label):
    extra = ' and reduce_zero_label=False' if reduce_zero_label else ''
    return (
        f'{where} holds only 0 and {ignore_index}, the ignore index: foreground saved as '
        f'{ignore_index} is never learnt; save the masks with 1 for foreground (mask // 255)'
        f'{extra}'
    )


def label_problem(paths, num_classes, ignore_index=255, reduce_zero_label=False, allow_empty=False):
    """The trap the label maps at ``paths`` fall into under these settings, or ''.

    Args:
        paths (list[str]): annotation maps to read (see :func:`spread`).
        num_classes (int): the number of classes (``len(classes)``).
        ignore_index (int): the value the loss and metric skip. Defaults to 255.
        reduce_zero_label (bool): whether 0 marks unlabelled pixels and the files hold 1..N.
        allow_empty (bool): accept a map without a valid pixel (``CheckSegAnnotation``'s
            option of that name).

    Returns:
        str: one line naming a file and what to set; '' when nothing is wrong.
    """
    first = {}  # value -> the first file holding it
    for path in paths:
        seg = read_label_map(path)
        if seg is None:
            return (
                f'annotation {path} ({osp.getsize(path)} bytes) is not a readable image; '
                'expected a PNG file'
            )
        if seg.ndim != 2:
            return (
                f'annotation {path} has shape {seg.shape}; expected a single-channel map of class '
                'indices (a colour mask must be converted to indices, e.g. by its palette)'
            )
        values = np.unique(seg).tolist()
        ignored = {ignore_index, 0} if reduce_zero_label else {ignore_index}
        # A 0/255 mask under reduce_zero_label is the binary trap below, with better advice.
        binary = set(values) == {0, ignore_index}
        if not allow_empty and not set(values) - ignored and not binary:
            note = ' (0 is ignored under reduce_zero_label)' if reduce_zero_label else ''
            return (
                f'annotation {path} has no valid pixel: it holds only {values}{note}; fix or drop '
                'the map, or set allow_empty=True on CheckSegAnnotation'
            )
        for value in values:
            first.setdefault(value, path)
    labels = sorted(v for v in first if v != ignore_index)
    if not labels:
        return ''
    if labels == [0] and ignore_index in first and num_classes >= 2:
        return _binary_advice(f'annotation {first[ignore_index]}', ignore_index, reduce_zero_label)
    top = num_classes if reduce_zero_label else num_classes - 1
    bad = [v for v in labels if v < 0 or v > top]
    if bad:
        where = f'annotation {first[bad[0]]}'
        shift = 1 if reduce_zero_label else 0
        reduced = [v - shift for v in bad]
        advice = interpolation_advice(where, reduced, num_classes, ignore_index, in_file=bad)
        if advice:
            return advice
        expected = f'expected 0..{num_classes - 1} or the ignore index {ignore_index}'
        if reduce_zero_label:
            return (
                f'{where} holds label value(s) {reduced} ({bad} in the file, before '
                f'reduce_zero_label); {expected}: classes must list every class'
            )
        hint = ''
        if bad == [num_classes] and 0 in first:
            hint = ', or set reduce_zero_label=True if 0 marks unlabelled pixels'
        return (
            f'{where} holds label value(s) {bad}; {expected}: classes ({num_classes} entries) '
            f'must list every class{hint}'
        )
    if reduce_zero_label and num_classes == 2 and labels == [0, 1]:
        return (
            f'annotation {first[1]} is a 0/1 mask, but reduce_zero_label=True ignores 0 and makes '
            '1 class 0: set reduce_zero_label=False (0 = background, 1 = foreground)'
        )
    return ''
