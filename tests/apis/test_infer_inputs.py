"""``pvtv2_dense.apis.infer``: option domains, what an input is, the pixel limit read from the
header before decoding, and the output folder checks (issue 33)."""

import os
import struct
import zlib

import cv2
import numpy as np
import pytest
from PIL import Image

from pvtv2_dense.apis.infer import InferOptions, OptionError, collect_sources, sources
from pvtv2_dense.apis.infer.outputs import OutputPlan, output_names
from pvtv2_dense.errors import DataError, OutputError


def write_png_bomb(path, side=20000):
    """A valid 1-bit grayscale PNG of side x side pixels, a few hundred KB on disk, that an
    8-bit BGR decoder turns into side * side * 3 bytes (1.2 GB for 20000)."""

    def chunk(kind, data):
        body = kind + data
        return struct.pack('>I', len(data)) + body + struct.pack('>I', zlib.crc32(body))

    row = b'\x00' + b'\x00' * ((side + 7) // 8)  # filter byte + packed bits
    packer = zlib.compressobj(9)
    data = b''.join(packer.compress(row) for _ in range(side)) + packer.flush()
    header = struct.pack('>IIBBBBB', side, side, 1, 0, 0, 0, 0)
    with open(path, 'wb') as f:
        f.write(b'\x89PNG\r\n\x1a\n' + chunk(b'IHDR', header) + chunk(b'IDAT', data))
        f.write(chunk(b'IEND', b''))
    return str(path)


@pytest.mark.parametrize(
    'option, value, flag',
    [
        ('opacity', float('nan'), '--opacity nan'),
        ('opacity', 1.5, '--opacity 1.5'),
        ('opacity', -0.1, '--opacity -0.1'),
        ('score_thr', float('inf'), '--score-thr inf'),
        ('max_pixels', 0, '--max-pixels 0'),
        ('max_pixels', float('nan'), '--max-pixels nan'),
        ('max_pixels', 2**31, '--max-pixels 2.14748e+09'),
        ('max_frames', -1, '--max-frames -1'),
        ('video_format', 'mkv', '--video-format mkv'),
    ],
)
def test_options_out_of_domain_are_refused(option, value, flag):
    with pytest.raises(OptionError, match=flag.replace('+', r'\+')):
        InferOptions(inputs=('a.png',), config='c.py', checkpoint='w.pth', **{option: value})


def test_options_need_one_backend():
    for weights in ({}, dict(checkpoint='w.pth', onnx='m.onnx')):
        with pytest.raises(OptionError, match='--checkpoint .* or --onnx'):
            InferOptions(inputs=('a.png',), config='c.py', **weights)
    assert InferOptions(inputs=('a.png',), config='c.py', onnx='m.onnx').opacity == 0.5


def test_sources_by_kind(tmp_path):
    (tmp_path / 'b.png').write_bytes(b'')
    (tmp_path / 'a.mp4').write_bytes(b'')
    (tmp_path / 'notes.txt').write_text('not picked up')
    found = collect_sources([str(tmp_path), '0', 'rtsp://cam.local:554/live/1', 'http://x/y.mjpg'])
    kinds = [(s.kind, os.path.basename(s.location)) for s in found]
    assert kinds == [
        ('image', 'b.png'),
        ('video', 'a.mp4'),
        ('camera', '0'),
        ('stream', '1'),
        ('stream', 'y.mjpg'),
    ]
    assert [s.live for s in found] == [False, False, True, True, True]
    assert output_names(found) == [
        'b',
        'a',
        'camera0',
        'stream_cam_local_554_live_1',
        'stream_x_y_mjpg',
    ]
    with pytest.raises(DataError, match='input nope.png does not exist'):
        collect_sources(['nope.png'])


def test_output_names_stay_unique(tmp_path):
    for folder in ('x', 'y'):
        (tmp_path / folder).mkdir()
    paths = [tmp_path / 'x' / 'a.jpg', tmp_path / 'x' / 'a.png', tmp_path / 'y' / 'a.png']
    for p in paths:
        p.write_bytes(b'')
    assert output_names(collect_sources([str(p) for p in paths])) == ['a_jpg', 'a_png', 'a_png_1']


def test_pixel_limit_is_checked_on_the_header_before_decoding(tmp_path, monkeypatch):
    bomb = write_png_bomb(tmp_path / 'bomb.png')
    assert os.path.getsize(bomb) < 1_000_000
    decoded = []
    monkeypatch.setattr(sources.mmcv, 'imread', lambda *a, **k: decoded.append(a))
    with pytest.raises(DataError, match=r'20000x20000 \(WxH\), 400.0 MP, over the limit of 120 MP'):
        sources.read_image(bomb, 120_000_000)
    assert not decoded, 'the image was decoded before its size was checked'
    assert Image.MAX_IMAGE_PIXELS == 89478485  # Pillow's own setting restored


def test_image_reading(tmp_path):
    rgba = tmp_path / 'rgba.png'
    Image.fromarray(np.full((5, 7, 4), 200, np.uint8), 'RGBA').save(rgba)
    assert sources.read_image(str(rgba), 35).shape == (5, 7, 3)
    with pytest.raises(DataError, match='7x5 .* over the limit'):
        sources.read_image(str(rgba), 34)
    broken = tmp_path / 'broken.jpg'
    broken.write_bytes(b'\xff\xd8\xff not a jpeg')
    with pytest.raises(DataError, match='not a readable image'):
        sources.read_image(str(broken), 100)
    # A format Pillow does not read: OpenCV decodes it, after no header check.
    hdr = tmp_path / 'x.hdr'
    cv2.imwrite(str(hdr), np.ones((4, 6, 3), np.float32))
    assert sources.header_size(str(hdr)) is None


def _plan_and_check(out_dir, names=('a',), sources_=(), **kw):
    plan = OutputPlan(str(out_dir), kw.pop('save_raw', True), kw.pop('overwrite', False))
    plan.check(set(names), list(sources_))
    return plan


def test_existing_outputs_are_refused_by_name(tmp_path):
    out = tmp_path / 'out'
    (out / 'pred').mkdir(parents=True)
    (out / 'pred' / 'a.json').write_text('a user file')
    with pytest.raises(OutputError, match=r'out/pred/a.json already exists .* --overwrite'):
        _plan_and_check(out)
    assert not (out / 'vis').exists(), 'a folder was made before the refusal'
    _plan_and_check(out, overwrite=True).remove_empty()
    assert (out / 'pred' / 'a.json').read_text() == 'a user file'
    assert not (out / 'vis').exists(), 'the empty folder it made was left behind'


def test_output_folders_that_are_files_or_inputs(tmp_path):
    (tmp_path / 'file').write_text('x')
    with pytest.raises(OutputError, match='file is a file; expected a folder'):
        _plan_and_check(tmp_path / 'file')
    # A folder that cannot be made (under a file): one line, and nothing made.
    with pytest.raises(OutputError, match='cannot write .*file/sub: Not a directory'):
        _plan_and_check(tmp_path / 'file' / 'sub')
    (tmp_path / 'o').mkdir()
    (tmp_path / 'o' / 'vis').write_text('x')
    with pytest.raises(OutputError, match='o/vis is a file'):
        _plan_and_check(tmp_path / 'o')
    # An input inside the output folder would be written over, even with --overwrite.
    (tmp_path / 'p' / 'vis').mkdir(parents=True)
    image = tmp_path / 'p' / 'vis' / 'a.png'
    image.write_bytes(b'')
    with pytest.raises(OutputError, match='would overwrite the input'):
        _plan_and_check(tmp_path / 'p', sources_=collect_sources([str(image)]), overwrite=True)


def test_folders_made_then_removed_when_empty(tmp_path):
    plan = _plan_and_check(tmp_path / 'new' / 'out')
    assert (tmp_path / 'new' / 'out' / 'vis').is_dir() and (
        tmp_path / 'new' / 'out' / 'pred'
    ).is_dir()
    (tmp_path / 'new' / 'out' / 'vis' / 'a.png').write_bytes(b'')
    plan.remove_empty()
    assert sorted(os.listdir(tmp_path / 'new' / 'out')) == ['vis']
