"""``run_infer`` end to end on tiny models with random weights: classification pictures (issue
36), per-image failures that let the batch go on and leave no empty folder (issue 33), videos,
a camera (a video file standing in for it) and a stream URL."""

import json
import os

import cv2
import numpy as np
import pytest
from mmengine.config import Config
from PIL import Image

from pvtv2_dense.apis.infer import InferOptions, run_infer, sources
from pvtv2_dense.errors import InputError


def infer(config, ckpt, inputs, out, **kw):
    options = InferOptions(
        inputs=tuple(str(i) for i in inputs),
        config=config,
        checkpoint=ckpt,
        out_dir=str(out),
        device='cpu',
        **kw,
    )
    return run_infer(Config.fromfile(config), options)


def frame_count(path):
    capture = cv2.VideoCapture(str(path))
    count = 0
    while capture.read()[0]:
        count += 1
    capture.release()
    return count


def test_classification_is_drawn_and_saved(tiny, tmp_path):
    image = tmp_path / 'shape.png'
    Image.fromarray(np.random.default_rng(0).integers(0, 255, (50, 70, 3), np.uint8)).save(image)
    infer(*tiny['cls'], [image], tmp_path / 'out', save_raw=True)
    drawn = cv2.imread(str(tmp_path / 'out' / 'vis' / 'shape.png'))
    assert drawn.shape == (50, 70, 3)
    assert not np.array_equal(drawn, cv2.imread(str(image))), 'nothing was drawn'
    top = json.loads((tmp_path / 'out' / 'pred' / 'shape.json').read_text())
    assert len(top) == 5 and top[0]['score'] >= top[-1]['score']
    assert top[0]['class'] in (
        'disk',
        'square',
        'triangle',
        'ring',
        'cross',
        'diamond',
        'hbar',
        'vbar',
        'half',
        'ell',
    )


def test_bad_images_are_skipped_and_the_batch_goes_on(tiny, tmp_path, capsys):
    rng = np.random.default_rng(0)
    folder = tmp_path / 'in'
    folder.mkdir()
    cv2.imwrite(str(folder / 'a_good.png'), rng.integers(0, 255, (40, 60, 3), np.uint8))
    cv2.imwrite(str(folder / 'b_one_pixel.png'), np.zeros((1, 1, 3), np.uint8))
    cv2.imwrite(str(folder / 'c_strip.png'), np.zeros((20, 10000, 3), np.uint8))
    (folder / 'd_corrupt.jpg').write_bytes(b'\xff\xd8\xff\xe0 truncated')
    cv2.imwrite(str(folder / 'e_good.png'), rng.integers(0, 255, (64, 64, 3), np.uint8))
    with pytest.raises(InputError, match=r'of 5 input\(s\) skipped') as err:
        infer(*tiny['seg'], [folder], tmp_path / 'out')
    assert 'the others are in' in str(err.value)
    lines = [x for x in capsys.readouterr().err.splitlines() if x.startswith('warning: skipped')]
    assert any('b_one_pixel.png' in x for x in lines) and any('d_corrupt.jpg' in x for x in lines)
    assert all(x.count('\n') == 0 for x in lines)
    written = sorted(os.listdir(tmp_path / 'out' / 'vis'))
    assert written[0] == 'a_good.png' and written[-1] == 'e_good.png'


def test_nothing_left_behind_when_nothing_came_out(tiny, tmp_path):
    bad = tmp_path / 'bad.png'
    bad.write_bytes(b'not an image')
    with pytest.raises(InputError, match='1 of 1 input.*nothing written'):
        infer(*tiny['seg'], [bad], tmp_path / 'out', save_raw=True)
    assert not (tmp_path / 'out').exists()


@pytest.mark.parametrize(
    'task, video_format',
    [
        ('seg', 'mp4'),
        pytest.param('depth', 'avi', marks=pytest.mark.slow),  # ~6 s on a loaded machine
        ('cls', 'mp4'),
    ],
)
def test_video_is_annotated_with_frames_per_second(
    task, video_format, tiny, clip, tmp_path, capsys
):
    out = tmp_path / 'out'
    result = infer(*tiny[task], [clip], out, video_format=video_format, save_raw=task == 'seg')
    video = out / 'vis' / f'clip.{video_format}'
    assert result['done'] == {clip: str(video)}
    assert frame_count(video) == 6
    clock = result['fps'][clip]
    assert clock.frames == 6 and clock.fps() > 0
    assert all(clock.totals[stage] > 0 for stage in ('decode', 'preprocess', 'model', 'draw'))
    assert 'fps end to end (decode' in capsys.readouterr().out
    if task == 'seg':
        raw = sorted(os.listdir(out / 'pred' / 'clip'))
        assert raw[0] == '000000.png' and len(raw) == 6


def test_camera_and_stream(tiny, clip, tmp_path, monkeypatch):
    # A video file stands in for camera 0: the capture opener gets the file for index 0.
    opened = []

    def stand_in(target):
        opened.append(target)
        return cv2.VideoCapture(clip if target == 0 else target)

    monkeypatch.setattr(sources, 'CAPTURE', stand_in)
    result = infer(*tiny['seg'], ['0', f'file://{clip}'], tmp_path / 'out', max_frames=2)
    assert opened == [0, f'file://{clip}']
    names = sorted(os.listdir(tmp_path / 'out' / 'vis'))
    assert names[0] == 'camera0.mp4'
    assert names[1].startswith('stream_') and names[1].endswith('_clip_mp4.mp4'), names
    assert [c.frames for c in result['fps'].values()] == [2, 2]
    assert frame_count(tmp_path / 'out' / 'vis' / 'camera0.mp4') == 2


def test_unopenable_video_is_one_line(tiny, tmp_path):
    fake = tmp_path / 'fake.mp4'
    fake.write_bytes(b'not a video')
    with pytest.raises(InputError, match='fake.mp4: .*(cannot open video|no frame could be read)'):
        infer(*tiny['seg'], [fake], tmp_path / 'out')
    assert not (tmp_path / 'out').exists()
