"""Inference decodes a photo as the datasets do, ignoring its EXIF orientation (issue 33 item 5):
a JPEG tagged "rotate 90" gives the same prediction as the untagged file, at the stored size."""

import cv2
import numpy as np
from mmengine.config import Config
from mmengine.registry import init_default_scope
from PIL import Image

from pvtv2_dense.apis.infer import InferOptions, run_infer
from pvtv2_dense.apis.infer.sources import read_image
from pvtv2_dense.apis.inference import build_test_pipeline

ORIENTATION = 0x0112  # EXIF tag; 6 means "rotate 90 degrees clockwise to display"
STORED = (40, 64)  # (H, W): not square, so a rotation changes the shape


def write_photos(folder):
    """The same pixels saved as an untagged JPEG and as one tagged with orientation 6."""
    pixels = np.random.default_rng(0).integers(0, 255, (*STORED, 3), np.uint8)
    pixels[8:20, 10:50] = 255  # a structure, so a rotation also changes the prediction
    plain, tagged = folder / 'plain.jpg', folder / 'tagged.jpg'
    Image.fromarray(pixels).save(plain, quality=95)
    exif = Image.Exif()
    exif[ORIENTATION] = 6
    Image.fromarray(pixels).save(tagged, quality=95, exif=exif)
    assert Image.open(tagged).getexif()[ORIENTATION] == 6
    return plain, tagged


def test_read_image_keeps_stored_pixels(tmp_path):
    plain, tagged = write_photos(tmp_path)
    assert cv2.imread(str(tagged)).shape[:2] == STORED[::-1], 'OpenCV no longer applies EXIF'
    np.testing.assert_array_equal(read_image(str(tagged), 1e6), read_image(str(plain), 1e6))
    assert read_image(str(tagged), 1e6).shape[:2] == STORED


def test_tagged_photo_predicts_as_untagged(tiny, tmp_path):
    plain, tagged = write_photos(tmp_path)
    config, ckpt = tiny['depth']
    outputs = {}
    for photo in (plain, tagged):
        out = tmp_path / f'out_{photo.stem}'
        options = InferOptions(
            inputs=(str(photo),),
            config=config,
            checkpoint=ckpt,
            out_dir=str(out),
            device='cpu',
            save_raw=True,
        )
        run_infer(Config.fromfile(config), options)
        drawn = cv2.imread(str(out / 'vis' / f'{photo.stem}.png'))
        # mmseg draws a depth map below the image: twice the stored height, the stored width.
        assert drawn.shape[:2] == (2 * STORED[0], STORED[1])
        outputs[photo.stem] = np.load(out / 'pred' / f'{photo.stem}.npy')
    assert outputs['tagged'].shape == STORED
    np.testing.assert_array_equal(outputs['tagged'], outputs['plain'])


def test_pipeline_loaders_ignore_orientation(tiny):
    cfg = Config.fromfile(tiny['seg'][0])
    cfg.test_dataloader.dataset.pipeline = [
        dict(type='LoadImageFromFile'),
        dict(type='TestTimeAug', transforms=[[dict(type='LoadImageFromFile')]]),
    ]
    init_default_scope(cfg.default_scope)
    pipeline = build_test_pipeline(cfg)
    inner = pipeline.transforms[1].subroutines[0].transforms[0]
    assert inner.color_type == 'color_ignore_orientation'


def test_decode_flag_follows_the_datasets(tiny):
    flags = {}
    for task, (config, _) in tiny.items():
        cfg = Config.fromfile(config)
        init_default_scope(cfg.default_scope)
        flags[task] = build_test_pipeline(cfg).decode_flag
    # Classification's CheckedLoadImage applies EXIF; the paired-map datasets do not.
    assert flags == dict(
        seg='color_ignore_orientation', depth='color_ignore_orientation', cls='color'
    )
