"""What the inference-style tools call: building a model and its test pipeline from a config,
predicting one image, and the pictures a person looks at after a run."""

from ..zoo.models import init_model  # a released model by name, or a config (+ checkpoint)
from .inference import build_model, build_test_pipeline, default_device, predict, task_of

__all__ = [
    'build_model',
    'build_test_pipeline',
    'default_device',
    'init_model',
    'predict',
    'task_of',
]
