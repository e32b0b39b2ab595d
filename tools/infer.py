"""Run a trained model on images, folders, videos, a webcam or a stream: segmentation, depth,
detection, panoptic segmentation or classification (the config decides).

Examples:
    python tools/infer.py demo.jpg --config CONFIG --checkpoint CKPT
    python tools/infer.py segformer_mit-b0_ade20k-512x512 demo.jpg   # a released model by name
    python tools/infer.py photos/ --config CONFIG --checkpoint CKPT --out-dir out/ --save-raw
    python tools/infer.py a.png b.jpg --config DET_CONFIG --checkpoint CKPT --score-thr 0.5
    python tools/infer.py clip.mp4 --config CONFIG --checkpoint CKPT          # annotated video
    python tools/infer.py 0 --config CONFIG --checkpoint CKPT --max-frames 300   # webcam 0
    python tools/infer.py rtsp://host/stream --config CONFIG --onnx model.onnx   # ONNX Runtime

Images: any size and format OpenCV reads (JPEG, PNG, BMP, TIFF, WebP; grayscale and RGBA become
3-channel colour), up to --max-pixels (default 120 MP), read from the file's header before
decoding. Writes OUT_DIR/vis/<name>.png (overlay, colourised depth, boxes, panoptic segments with
class names, or the top classes) and, with --save-raw, OUT_DIR/pred/<name>: a label PNG
(segmentation, uint8 or uint16), a float32 .npy in the model's depth unit (depth), a .json of
boxes, scores and labels (detection) or of the top 5 classes (classification), or a COCO
panoptic PNG (segment ids RGB-encoded, 0 = VOID) with a .json of its segments (panoptic).

Videos (.mp4 .avi .mov .mkv .webm ...), a camera index (0) or a stream URL (rtsp://, http://):
read with OpenCV's VideoCapture, written to OUT_DIR/vis/<name>.mp4 (or .avi with
--video-format avi) with a progress bar; the end-to-end frames per second (decode, preprocess,
model, draw, write) are printed per video. A camera or stream runs until it ends, --max-frames,
or Ctrl-C. --save-raw writes OUT_DIR/pred/<name>/<frame>.*.

--onnx FILE (from tools/deployment/export_onnx.py; segmentation, depth, classification) runs
the network in ONNX Runtime between the config's own pre- and post-processing, instead of
--checkpoint in PyTorch. Export it with --dynamic (the test pipelines keep the aspect ratio and
do not pad), or at the one --shape H W the pipeline makes of your frames.

A folder is read without recursion. An input that cannot be processed (unreadable, over the
pixel limit, too small for the model) is reported in one 'warning: skipped' line and the others
go on; the run then ends with an 'error: ...' line and exit status 2, as every input error does.
No output that exists is written over without --overwrite, and the output folders are checked
before the model is built.
"""

import argparse

from pvtv2_dense.apis.infer import DEFAULT_MAX_PIXELS, InferOptions, run_infer
from pvtv2_dense.cli import ToolParser, cli_entry, load_config
from pvtv2_dense.zoo import infer_args


def parse_args(argv=None):
    parser = ToolParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument(
        'inputs', nargs='+', metavar='INPUT', help='images, folders, videos, camera index, URLs'
    )
    parser.add_argument('--config', help='config file (default: that of a released model NAME)')
    parser.add_argument('--checkpoint', help='checkpoint that fits the config (PyTorch)')
    parser.add_argument('--onnx', help='ONNX export of the config (ONNX Runtime), not --checkpoint')
    parser.add_argument('--out-dir', default='outputs', help='output folder (default: outputs)')
    parser.add_argument('--save-raw', action='store_true', help='also write raw predictions')
    parser.add_argument(
        '--overwrite',
        action='store_true',
        help='write over predictions an earlier run left in --out-dir (refused otherwise)',
    )
    parser.add_argument('--device', default=None, help='torch device (default: cuda if present)')
    parser.add_argument('--score-thr', type=float, default=0.3, help='detection: boxes to draw')
    parser.add_argument('--opacity', type=float, default=0.5, help='segmentation overlay alpha')
    parser.add_argument(
        '--max-pixels',
        type=float,
        default=DEFAULT_MAX_PIXELS,
        help=f'refuse larger images and frames undecoded (default: {DEFAULT_MAX_PIXELS:.0e})',
    )
    parser.add_argument('--max-frames', type=int, default=0, help='per video/camera (0: all)')
    parser.add_argument('--video-format', default='mp4', help='annotated videos: mp4 or avi')
    parser.add_cfg_options()
    return parser.parse_args(argv)


@cli_entry
def main(argv=None):
    args = parse_args(argv)
    # infer.py NAME INPUTS...: a released model by name (pvtv2_dense/zoo/manifest.yml).
    args.inputs, args.config, args.checkpoint, args.cfg_options = infer_args(
        args.inputs, args.config, args.checkpoint, args.cfg_options
    )
    options = InferOptions(
        inputs=tuple(args.inputs),
        **{k: v for k, v in vars(args).items() if k not in ('inputs', 'cfg_options')},
    )
    run_infer(load_config(args.config, args.cfg_options), options)


if __name__ == '__main__':
    main()
