"""``tools/infer.py``'s run: check the outputs, build the predictor, then each image, video,
camera or stream in turn. An input that cannot be processed is reported in one line and the
others go on; the run then ends with an :class:`~pvtv2_dense.errors.InputError` naming how many
were skipped (the tools report it as ``error: ...``, exit status 2)."""

import os.path as osp
import sys

import cv2
from mmengine.utils import ProgressBar

from ...errors import InputError, OutputError
from ...fileio import atomic_output
from ..inference import task_of
from .backends import resolve_model
from .draw import Renderer
from .outputs import OutputPlan, output_names
from .raw import save_raw
from .sources import collect_sources, read_image
from .timing import StageClock
from .video import annotate_video


def run_infer(cfg, options):
    """Predict, draw and save every input of ``options``.

    Args:
        cfg (Config): the loaded config.
        options (InferOptions): checked options.

    Returns:
        dict: ``done`` (outputs written, by input), ``fps`` (the stage clock of each video).

    Raises:
        InputError: before any model work for a bad input list or output folder; at the end
            when inputs were skipped.
    """
    sources = collect_sources(options.inputs)
    names = output_names(sources)
    plan = OutputPlan(options.out_dir, options.save_raw, options.overwrite)
    plan.check(set(names), sources)
    try:
        predictor = resolve_model(cfg, options)
        runner = _Runner(cfg, options, predictor, plan)
        return runner.run(sources, names)
    finally:
        plan.remove_empty()


class _Runner:
    def __init__(self, cfg, options, predictor, plan):
        self.options = options
        self.predictor = predictor
        self.plan = plan
        self.render = Renderer(cfg, predictor.dataset_meta, options.opacity, options.score_thr)
        self.class_names = list(predictor.dataset_meta.get('classes', ()))

    def run(self, sources, names):
        images = sum(s.kind == 'image' for s in sources)
        bar = ProgressBar(images) if images > 1 else None
        skipped, done, clocks = [], {}, {}
        for source, name in zip(sources, names):
            try:
                if source.kind == 'image':
                    done[source.location] = self.image(source.location, name)
                else:
                    clocks[source.location] = clock = StageClock()
                    done[source.location] = annotate_video(source, name, self, clock)
            except InputError as err:
                reason = f'{source.location}: {err}'
                skipped.append(reason)
                print(f'\nwarning: skipped {reason}', file=sys.stderr)
            if bar and source.kind == 'image':
                bar.update()
        if bar:
            sys.stdout.write('\n')
        raw = f', raw predictions in {self.plan.raw_dir}' if self.options.save_raw else ''
        print(f'{len(done)} input(s): visualisations in {self.plan.vis_dir}{raw}')
        if skipped:
            rest = 'nothing written' if not done else f'the others are in {self.plan.vis_dir}'
            raise InputError(
                f'{len(skipped)} of {len(sources)} input(s) skipped, e.g. {skipped[0]}; {rest}'
            )
        return dict(done=done, fps=clocks)

    def image(self, path, name):
        # Decoded as the config's test data is (EXIF orientation applied or not).
        image = read_image(path, self.options.max_pixels, self.predictor.pipeline.decode_flag)
        sample = self.predictor.infer(self.predictor.preprocess(image))
        out = osp.join(self.plan.vis_dir, name + '.png')
        picture = self.render(image, sample)
        with atomic_output(out) as tmp:
            if not cv2.imwrite(tmp, cv2.cvtColor(picture, cv2.COLOR_RGB2BGR)):
                raise OutputError(f'cannot write {out} (OpenCV imwrite)')
        if self.options.save_raw:
            save_raw(sample, task_of(sample), osp.join(self.plan.raw_dir, name), self.class_names)
        return out
