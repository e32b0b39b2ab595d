"""ONNX Runtime INT8 quantization: dynamic and static (calibrated on the config's own
validation images) graphs run, keep the float32 graph's answer mostly, and the speed table
script's pieces give one row per backend."""

import numpy as np
import pytest
from mmengine.config import Config

from pvtv2_dense.datasets import generate_ade20k
from pvtv2_dense.deploy.onnx import export_onnx, run_onnx
from pvtv2_dense.deploy.ort_bench import speed_table
from pvtv2_dense.deploy.plain import build_plain_model
from pvtv2_dense.deploy.quantize import calibration_inputs, graph_input, quantize_onnx
from pvtv2_dense.errors import ExportError
from tests.helpers.deploy import write_task


@pytest.mark.slow  # 80 s on the loaded box: export, two quantizations, calibration
def test_dynamic_and_static_int8_graphs_keep_the_labels(tmp_path):
    root = generate_ade20k(str(tmp_path / 'data'), num_train=1, num_val=4)
    options = {'val_dataloader.dataset.data_root': root}
    config, checkpoint = write_task(tmp_path, 'segformer', options=options)
    cfg = Config.fromfile(config)
    model = build_plain_model(cfg, checkpoint, config)
    fp32 = str(tmp_path / 'fp32.onnx')
    export_onnx(model, fp32, (64, 64))
    assert graph_input(fp32) == ('inputs', (64, 64))
    calib = calibration_inputs(cfg, 4, (64, 64))
    assert len(calib) == 4 and calib[0].shape == (1, 3, 64, 64)
    assert abs(float(calib[0].mean())) < 3  # normalized pixels, not 0-255
    x = calib[0]
    want = run_onnx(fp32, x)
    for mode in ('dynamic', 'static'):
        out = str(tmp_path / f'{mode}.onnx')
        quantize_onnx(fp32, out, mode, calib if mode == 'static' else None)
        got = run_onnx(out, x)
        assert got.shape == want.shape
        assert not np.array_equal(got, want)  # it did quantize
        assert (got.argmax(1) == want.argmax(1)).mean() > 0.5, mode
    task, rows = speed_table(model, {'fp32': fp32, 'static': out}, (64, 64), rounds=2)
    assert task == 'segmentation' and [r[0] for r in rows] == ['PyTorch (ours)', 'fp32', 'static']
    assert rows[1][4] == pytest.approx(1.0, abs=0.01)  # float32 ORT labels as PyTorch does


def test_static_quantization_needs_calibration(tmp_path):
    with pytest.raises(ExportError, match='needs calibration inputs'):
        quantize_onnx(str(tmp_path / 'x.onnx'), str(tmp_path / 'y.onnx'), 'static')
