"""End-to-end frames per second of a video, camera or stream, split by stage."""

import time

STAGES = ('decode', 'preprocess', 'model', 'draw', 'write')


class StageClock:
    """Wall time per stage over the frames of one source (``time.perf_counter``)."""

    def __init__(self):
        self.totals = dict.fromkeys(STAGES, 0.0)
        self.frames = 0
        self._last = time.perf_counter()

    def restart(self):
        """Start timing the next stage from now."""
        self._last = time.perf_counter()

    def lap(self, stage):
        """Add the time since the last lap (or restart) to ``stage``."""
        now = time.perf_counter()
        self.totals[stage] += now - self._last
        self._last = now

    def fps(self):
        """Frames per second over all stages (0 when nothing was timed)."""
        total = sum(self.totals.values())
        return self.frames / total if total > 0 else 0.0

    def summary(self):
        """``'12.3 fps end to end (decode 1.0, ... ms/frame)'``."""
        per = ', '.join(f'{s} {1000 * self.totals[s] / max(self.frames, 1):.1f}' for s in STAGES)
        return f'{self.fps():.1f} fps end to end ({per} ms/frame)'
