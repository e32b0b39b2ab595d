"""Bad-input rows of issue 33 for ``tools/train.py`` and ``tools/test.py``: config values out of
their domain, launchers without their environment, unwritable or mistyped outputs, a held work
dir, what --resume may continue, non-finite training and weights.

Each row runs the tool as a script (forked, see tests/helpers/bad_input_workspace.py) and must
exit 2 with one ``error: ...`` line (the last, no traceback) holding the expected texts, and
leave every file that existed before untouched. The runs that go on (with a note or a warning
line) are the tests after the rows.
"""

import hashlib
import json
import os
import os.path as osp
import shutil
import socket

import pytest
import torch

from pvtv2_dense.checkpoint import read_checkpoint
from pvtv2_dense.fileio.run_lock import LOCK_NAME
from tests.helpers.bad_input_workspace import run_tool, tiny_seg_files

LAUNCH_VARS = ('RANK', 'WORLD_SIZE', 'MASTER_ADDR', 'MASTER_PORT', 'SLURM_PROCID', 'SLURM_NTASKS')
# A folder nobody may write into: sysfs for root, who ignores permission bits.
UNWRITABLE = '/sys' if os.geteuid() == 0 else None


@pytest.fixture(scope='module')
def ws(tmp_path_factory):
    """A tiny config (``seg.py``), a checkpoint that fits it (``good.pth``), its backbone only
    (``other_task.pth``), a user's file (``earlier.pkl``), and one fault per file below."""
    t = str(tmp_path_factory.mktemp('bad_inputs_engine'))
    p = lambda *parts: osp.join(t, *parts)  # noqa: E731
    _, sd = tiny_seg_files(p)
    backbone = {k: v for k, v in sd.items() if k.startswith('backbone.')}
    torch.save(dict(state_dict=backbone), p('other_task.pth'))
    open(p('earlier.pkl'), 'wb').close()
    w = dict(t=t, p=p)
    open(p('empty.py'), 'w').close()
    for name, text in [
        ('model5', 'model = 5\n'),
        ('no_train_loader', 'train_dataloader = None\n'),
        ('no_test_loader', 'test_dataloader = None\n'),
    ]:
        with open(p(name + '.py'), 'w') as f:
            f.write(f"_base_ = ['./seg.py']\n{text}")
    sd = torch.load(p('good.pth'), weights_only=True)['state_dict']
    bad_key = sorted(k for k, v in sd.items() if v.is_floating_point())[3]
    sd[bad_key] = sd[bad_key].clone().fill_(float('nan'))
    torch.save(dict(state_dict=sd, meta={}), p('nan.pth'))
    w['nan_key'] = bad_key
    # A training run of another model (backbone only) with optimizer state, in its work dir.
    os.makedirs(p('other_run'))
    other = torch.load(p('other_task.pth'), weights_only=True)
    torch.save(dict(other, optimizer={}, meta=dict(iter=2)), p('other_run', 'iter_2.pth'))
    with open(p('other_run', 'last_checkpoint'), 'w') as f:
        f.write(p('other_run', 'iter_2.pth'))
    os.makedirs(p('dangling'))
    with open(p('dangling', 'last_checkpoint'), 'w') as f:
        f.write(p('dangling', 'iter_8.pth'))
    # A work dir held by a live run on this host (this test process).
    os.makedirs(p('locked'))
    with open(p('locked', LOCK_NAME), 'w') as f:
        json.dump(dict(host=socket.gethostname(), pid=os.getpid(), started=None), f)
    os.makedirs(p('tested'))
    with open(p('tested', 'test_metrics.json'), 'w') as f:
        f.write('{"mIoU": 41.2}\n')
    os.makedirs(p('folder.pkl'))
    return w


def train(config, *extra, work=('runs', 'x')):
    return lambda w: [w['p'](config), '--work-dir', w['p'](*work), *extra]


def opts(*options, work=('runs', 'x')):
    return train('seg.py', '--cfg-options', *options, work=work)


def evaluate(ckpt, *extra, config='seg.py', work=('runs', 't')):
    return lambda w: [w['p'](config), w['p'](ckpt), '--work-dir', w['p'](*work), *extra]


def ws_path(*parts):
    return lambda w: w['p'](*parts)


# (id, tool, args(ws), texts the error line holds (str, or callable on ws))
# fmt: off
ROWS = [
    # config values
    ('train-empty-config', 'train.py', train('empty.py'), ['empty.py', 'defines no model']),
    ('train-model-not-a-dict', 'train.py', train('model5.py'), ['model5.py', 'model=5', 'dict']),
    ('train-no-train-dataloader', 'train.py',
     train('no_train_loader.py'), ['no_train_loader.py', 'train_dataloader=None']),
    ('train-seed-negative', 'train.py', train('seg.py', '--seed', '-1'), ['--seed -1', '0 to']),
    ('train-seed-too-big', 'train.py',
     train('seg.py', '--seed', str(2**32)), [f'--seed {2**32}', str(2**32 - 1)]),
    # launchers without their environment
    ('train-launcher-slurm', 'train.py',
     train('seg.py', '--launcher', 'slurm'), ['--launcher slurm', 'SLURM_PROCID', 'srun']),
    ('train-launcher-pytorch', 'train.py',
     train('seg.py', '--launcher', 'pytorch'), ['--launcher pytorch', 'RANK', 'torchrun']),
    ('test-launcher-pytorch', 'test.py',
     evaluate('good.pth', '--launcher', 'pytorch'), ['--launcher pytorch', 'RANK']),
    # the work dir
    ('train-work-dir-is-a-file', 'train.py',
     train('seg.py', work=('earlier.pkl',)), [ws_path('earlier.pkl'), 'is a file']),
    ('train-work-dir-held', 'train.py',
     train('seg.py', work=('locked',)),
     [ws_path('locked'), 'in use by a running process', LOCK_NAME]),
    # --resume
    ('train-resume-bare-weights', 'train.py',
     train('seg.py', '--resume', 'good.pth'),
     ['good.pth', 'without optimizer state', ws_path('seg.py'), 'load_from=good.pth']),
    ('train-resume-other-model', 'train.py',
     train('seg.py', '--resume', work=('other_run',)),
     [ws_path('other_run', 'iter_2.pth'), ws_path('seg.py'), 'lacks']),
    ('train-resume-dangling-last-checkpoint', 'train.py',
     train('seg.py', '--resume', work=('dangling',)),
     [ws_path('dangling', 'last_checkpoint'), 'iter_8.pth', 'does not exist']),
    # test.py: config, outputs and weights
    ('test-empty-config', 'test.py', evaluate('good.pth', config='empty.py'), ['defines no model']),
    ('test-no-test-dataloader', 'test.py',
     evaluate('good.pth', config='no_test_loader.py'), ['test_dataloader=None']),
    ('test-metrics-exist', 'test.py',
     evaluate('good.pth', work=('tested',)),
     [ws_path('tested', 'test_metrics.json'), '--overwrite']),
    ('test-work-dir-is-a-file', 'test.py',
     evaluate('good.pth', work=('earlier.pkl',)), [ws_path('earlier.pkl'), 'is a file']),
    ('test-out-is-a-folder', 'test.py',
     lambda w: [*evaluate('good.pth')(w), '--out', w['p']('folder.pkl')],
     [ws_path('folder.pkl'), 'is a folder']),
    ('test-show-dir-is-a-file', 'test.py',
     lambda w: [*evaluate('good.pth')(w), '--show-dir', w['p']('earlier.pkl'), '--overwrite'],
     ['--show-dir', ws_path('earlier.pkl'), 'is a file']),
    ('test-non-finite-weights', 'test.py',
     evaluate('nan.pth'), [ws_path('nan.pth'), 'non-finite', lambda w: w['nan_key']]),
]
if UNWRITABLE:
    ROWS += [
        ('train-work-dir-unwritable', 'train.py',
         lambda w: [w['p']('seg.py'), '--work-dir', osp.join(UNWRITABLE, 'pvtv2_run')],
         ['--work-dir', 'pvtv2_run', 'cannot be written']),
        ('test-out-unwritable', 'test.py',
         lambda w: [*evaluate('good.pth')(w), '--out', osp.join(UNWRITABLE, 'pvtv2', 'p.pkl')],
         ['--out', 'p.pkl', 'cannot be written']),
    ]
# fmt: on
# --cfg-options out of their domain: (option, what the message expects)
VALUES = [
    ('train_cfg.max_iters=-5', 'int >= 1'),
    ('train_cfg.val_interval=0', 'int >= 1'),
    ('train_dataloader.batch_size=0', 'int >= 1'),
    ('train_dataloader.num_workers=-1', 'int >= 0'),
    ('optim_wrapper.optimizer.lr=-1', 'finite number > 0'),
    ('optim_wrapper.optimizer.lr=nan', 'finite number > 0'),
]
ROWS += [(f'train-{o}', 'train.py', opts(o), [o, expected]) for o, expected in VALUES]


def file_digests(root):
    """sha256 of every file under ``root``, by path."""
    found = {}
    for folder, _, files in os.walk(root):
        for name in files:
            path = osp.join(folder, name)
            with open(path, 'rb') as f:
                found[path] = hashlib.sha256(f.read()).hexdigest()
    return found


def _clean(ws):
    if osp.isdir(ws['p']('runs')):
        shutil.rmtree(ws['p']('runs'))


def run_row(ws, tool, args):
    """Run one tool; return (status, stderr lines, the last line)."""
    _clean(ws)
    status, _, err = run_tool(tool, args, cwd=ws['t'])
    lines = [line for line in err.splitlines() if line.strip()]
    return status, err, lines


@pytest.mark.parametrize('row', ROWS, ids=[r[0] for r in ROWS])
def test_bad_input_engine(row, ws, monkeypatch):
    name, tool, args, expect = row
    for var in LAUNCH_VARS:
        monkeypatch.delenv(var, raising=False)
    _clean(ws)
    before = file_digests(ws['t'])
    status, err, lines = run_row(ws, tool, args(ws))
    print(f'MATRIX|{name}|{status}|{lines[-1] if lines else ""}')
    assert status == 2, f'{name}: exit {status}\n{err[-3000:]}'
    assert 'Traceback' not in err, err[-3000:]
    assert lines[-1].startswith('error: ') and sum(x.startswith('error: ') for x in lines) == 1
    for text in expect:
        text = text(ws) if callable(text) else text
        assert text in lines[-1], f'{text!r} not in {lines[-1]!r}'
    # Files that existed before are unchanged (mmengine may have added a log folder).
    after = file_digests(ws['t'])
    changed = [p for p, digest in before.items() if after.get(p) != digest]
    assert not changed, f'{name} changed or removed files that existed before: {changed}'


@pytest.mark.slow  # a short training run (about 8 s); each line also has a unit test
def test_runs_that_go_on_say_why_in_one_line(ws):
    """--resume with nothing to resume, persistent_workers without workers, a dead run's lock:
    each is one line on stderr, and the run trains."""
    work = ws['p']('goes_on')  # outside runs/, which run_row empties
    os.makedirs(work)
    with open(osp.join(work, LOCK_NAME), 'w') as f:
        json.dump(dict(host=socket.gethostname(), pid=2**22 + 7, started=None), f)
    options = ('train_dataloader.persistent_workers=True', 'train_cfg.max_iters=1')
    args = train('seg.py', '--resume', '--cfg-options', *options, work=('goes_on',))(ws)
    status, err, lines = run_row(ws, 'train.py', args)
    assert status == 0, err[-3000:]
    said = [line for line in lines if line.startswith(('note: ', 'warning: '))]
    assert any('holds no checkpoint to resume; starting a new run' in x for x in said), said
    assert any('persistent_workers set to False' in x for x in said), said
    assert any(f'taking over the lock of pid {2**22 + 7}' in x for x in said), said
    assert not osp.exists(osp.join(work, LOCK_NAME))  # released at the end
    shutil.rmtree(work)


@pytest.mark.slow  # a short training run (about 8 s); tests/engine/test_safe_checkpoint.py
def test_non_finite_loss_keeps_the_last_good_checkpoint_latest(ws):
    work = ws['p']('runs', 'diverges')
    lr, every = 'optim_wrapper.optimizer.lr=1e12', 'default_hooks.checkpoint.interval=1'
    args = opts(lr, 'train_cfg.max_iters=4', every, work=('runs', 'diverges'))(ws)
    status, err, lines = run_row(ws, 'train.py', args)
    assert status == 2 and lines[-1].startswith('error: iteration '), err[-3000:]
    assert 'Traceback' not in err and 'not finite' in lines[-1], lines[-1]
    assert 'optim_wrapper.optimizer.lr' in lines[-1]
    stopped = int(lines[-1].split()[2].rstrip(':'))
    with open(osp.join(work, 'last_checkpoint')) as f:
        latest = f.read().strip()
    assert latest == osp.join(work, f'iter_{stopped - 1}.pth'), (latest, lines[-1])
    assert latest in lines[-1]
    saved = sorted(f for f in os.listdir(work) if f.endswith('.pth'))
    assert saved[-1] == f'iter_{stopped - 1}.pth', saved
    ckpt = read_checkpoint(latest)
    assert all(torch.isfinite(v).all() for v in ckpt['state_dict'].values())
