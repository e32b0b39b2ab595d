"""mim-style ``model-index.yml`` and ``configs/*/metafile.yml`` generated from the weights
manifest, and the model-zoo tables of README.md and docs/model_zoo.md generated from those.

Regenerate after editing the manifest (``--measure`` also recounts parameters and FLOPs of every
config, a few minutes on a CPU)::

    python -m pvtv2_dense.zoo.metafiles [--measure]
"""

import argparse
import os.path as osp
import re

import yaml

from .manifest import load_manifest

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
COMPLEXITY = osp.join(osp.dirname(__file__), 'complexity.yml')
# Config folder -> collection name and paper.
COLLECTIONS = {
    'pvtv2_cls': ('PVTv2', 'https://arxiv.org/abs/2106.13797'),
    'segformer': ('SegFormer', 'https://arxiv.org/abs/2105.15203'),
    'glpn': ('GLPN', 'https://arxiv.org/abs/2201.07436'),
    'retinanet': ('PVTv2 RetinaNet', 'https://arxiv.org/abs/2106.13797'),
    'mask_rcnn': ('PVTv2 Mask R-CNN', 'https://arxiv.org/abs/2106.13797'),
    'panoptic_segformer': ('Panoptic SegFormer', 'https://arxiv.org/abs/2109.03814'),
}
# Input size the complexity is counted at, per collection (the papers' conventions).
SHAPES = {'pvtv2_cls': (224, 224), 'retinanet': (800, 1280), 'mask_rcnn': (800, 1280)}
REGENERATE = 'python -m pvtv2_dense.zoo.metafiles'
TABLE_START, TABLE_END = '<!-- zoo-table:{} -->', '<!-- /zoo-table:{} -->'


def shape_of(config):
    """(H, W) the complexity of ``config`` (a path under configs/) is counted at."""
    folder = config.split('/')[0]
    if folder in SHAPES:
        return SHAPES[folder]
    m = re.search(r'(\d+)x(\d+)\.py$', config)
    return (int(m[1]), int(m[2])) if m else (512, 512)


def runnable(entries=None):
    """``{name: entry}`` of the manifest entries that run by name, in manifest order."""
    entries = load_manifest() if entries is None else entries
    return {n: e for n, e in entries.items() if e.get('convert') and e.get('config')}


def _model(name, entry, measured):
    folder = entry['config'].split('/')[0]
    src = entry['sources'][0] if entry['sources'] else None
    size = measured.get(entry['config'], {})
    h, w = shape_of(entry['config'])
    meta = {
        'Training Data': entry['dataset'],
        'Parameters (M)': size.get('params_m'),
        'FLOPs (G)': size.get('gflops'),
        'FLOPs input': f'{h}x{w}',
        'Key Layout': src['layout'] if src else 'as released',
        'LayerNorm eps': str(entry['eps']),
    }
    model = {
        'Name': name,
        'In Collection': COLLECTIONS[folder][0],
        'Config': f'configs/{entry["config"]}',
        'Metadata': {k: v for k, v in meta.items() if v is not None},
        'Weights': _download_url(src['url']) if src else entry['page'],
    }
    if entry.get('metric'):
        metric = entry['metric']
        extra = {'mask AP': metric['mask_ap']} if 'mask_ap' in metric else {}
        model['Results'] = [
            {
                'Task': entry['task'].title(),
                'Dataset': metric['dataset'],
                'Metrics': {metric['name']: metric['value'], **extra},
            }
        ]
    return folder, model


def build_metafiles(entries=None, measured=None):
    """The model index and one metafile per config folder.

    Returns:
        dict[str, dict]: repository-relative path -> YAML content.
    """
    if measured is None and osp.isfile(COMPLEXITY):
        with open(COMPLEXITY, encoding='utf-8') as f:
            measured = yaml.safe_load(f) or {}
    files = {}
    for name, entry in runnable(entries).items():
        folder, model = _model(name, entry, measured or {})
        path = f'configs/{folder}/metafile.yml'
        if path not in files:
            title, paper = COLLECTIONS[folder]
            collection = {'Name': title, 'Paper': paper, 'README': f'configs/{folder}/README.md'}
            files[path] = {'Collections': [collection], 'Models': []}
        files[path]['Models'].append(model)
    files = dict(sorted(files.items()))
    return {'model-index.yml': {'Import': list(files)}, **files}


def _cell(value):
    return '-' if value is None else f'{value:g}' if isinstance(value, float) else str(value)


def table(metafile):
    """The markdown table of one metafile: name, config, params, GFLOPs, published metric."""
    rows = [
        '| name (runs by name) | config | params (M) | GFLOPs (input) | published | weights |',
        '|---|---|---|---|---|---|',
    ]
    for m in metafile['Models']:
        meta = m['Metadata']
        result = '-'
        if m.get('Results'):
            found = m['Results'][0]['Metrics'].items()
            result = ', '.join(f'{k} {_cell(v)}' for k, v in found)
            result += f' ({m["Results"][0]["Dataset"]})'
        flops = f'{_cell(meta.get("FLOPs (G)"))} ({meta["FLOPs input"]})'
        cfg = osp.basename(m['Config'])
        link = _link(m['Weights'])
        rows.append(
            f'| `{m["Name"]}` | [{cfg}]({m["Config"]}) | {_cell(meta.get("Parameters (M)"))} '
            f'| {flops} | {result} | [source]({link}) |'
        )
    return '\n'.join(rows)


def _download_url(url):
    """``hf://owner/repo/file`` as the Hub's download URL (what mim's ``Weights`` holds)."""
    if not url.startswith('hf://'):
        return url
    owner, repo, path = url[len('hf://') :].split('/', 2)
    return f'https://huggingface.co/{owner}/{repo}/resolve/main/{path}'


def _link(url):
    """A browsable address: the URL, or a page's address without its note."""
    return url.split(' ')[0]


def anchors_table(entries=None):
    """Every manifest entry with each source, its hash and the anchor file it was read from."""
    entries = load_manifest() if entries is None else entries
    rows = [
        '| name | source (in order) | hash | read from | not checked here |',
        '|---|---|---|---|---|',
    ]
    for name, entry in entries.items():
        sources = entry['sources'] or [dict(url=entry['page'], anchor='(page only: by hand)')]
        for i, src in enumerate(sources):
            digest = src.get('sha256') or src.get('hash_prefix') or '-'
            rows.append(
                f'| {f"`{name}`" if i == 0 else ""} | {src["url"]} | {digest} | {src["anchor"]} '
                f'| {src.get("unchecked", "")} |'
            )
    return '\n'.join(rows)


def _span(values, fmt='{:g}'):
    values = [v for v in values if v is not None]
    if not values:
        return '-'
    low, high = min(values), max(values)
    return fmt.format(low) if low == high else f'{fmt.format(low)} - {fmt.format(high)}'


def summary_table(files):
    """One row per collection: how many models run by name, their params, GFLOPs and results."""
    rows = [
        '| released models | run by name | params (M) | GFLOPs | published |',
        '|---|---|---|---|---|',
    ]
    for path, content in files.items():
        if '/' not in path:
            continue
        models = content['Models']
        meta = [m['Metadata'] for m in models]
        results = {}
        for m in models:
            for r in m.get('Results', []):
                for metric, value in r['Metrics'].items():
                    results.setdefault(f'{metric} ({r["Dataset"]})', []).append(value)
        published = '; '.join(f'{k} {_span(v)}' for k, v in results.items()) or '-'
        rows.append(
            f'| [{content["Collections"][0]["Name"]}](docs/model_zoo.md) | {len(models)} '
            f'| {_span([x.get("Parameters (M)") for x in meta])} '
            f'| {_span([x.get("FLOPs (G)") for x in meta])} | {published} |'
        )
    return '\n'.join(rows)


def tables(files):
    """``{marker: markdown table}``: one per metafile, the summary and the anchors table."""
    tabs = {path.split('/')[1]: table(content) for path, content in files.items() if '/' in path}
    return {**tabs, 'summary': summary_table(files), 'anchors': anchors_table()}


def fill_tables(text, tabs, prefix=''):
    """``text`` with each marked table replaced by the generated one (links get ``prefix``)."""
    for key, tab in tabs.items():
        start, end = TABLE_START.format(key), TABLE_END.format(key)
        if start not in text:
            continue
        tab = tab.replace('](configs/', f']({prefix}configs/')
        head, rest = text.split(start, 1)
        text = f'{head}{start}\n{tab}\n{end}{rest.split(end, 1)[1]}'
    return text


def measure(entries=None):
    """Parameters (M) and GFLOPs of every runnable entry's config (random weights)."""
    from mmengine.config import Config

    from ..benchmark.complexity import complexity

    out = {}
    for entry in runnable(entries).values():
        config = entry['config']
        if config in out:
            continue
        cfg = Config.fromfile(osp.join(ROOT, 'configs', config))
        cfg.merge_from_dict(entry.get('cfg_options') or {})
        cfg.model.backbone.init_cfg = None
        params, flops, _ = complexity(cfg, shape_of(config))
        out[config] = {'params_m': round(params / 1e6, 1), 'gflops': round(flops / 1e9, 1)}
        print(f'{config}: {out[config]}', flush=True)
    return out


def write_all(do_measure=False):
    """Write the model index, the metafiles and the tables of README.md and docs/model_zoo.md."""
    if do_measure:
        with open(COMPLEXITY, 'w', encoding='utf-8') as f:
            f.write('# Written by python -m pvtv2_dense.zoo.metafiles --measure\n')
            yaml.safe_dump(measure(), f, sort_keys=True)
    files = build_metafiles()
    for path, content in files.items():
        with open(osp.join(ROOT, path), 'w', encoding='utf-8') as f:
            f.write(f'# Generated from pvtv2_dense/zoo/manifest.yml: {REGENERATE}\n')
            yaml.safe_dump(content, f, sort_keys=False, width=100)
    tabs = tables(files)
    for doc, prefix in (('README.md', ''), ('docs/model_zoo.md', '../')):
        path = osp.join(ROOT, doc)
        with open(path, encoding='utf-8') as f:
            text = f.read()
        with open(path, 'w', encoding='utf-8') as f:
            f.write(fill_tables(text, tabs, prefix))


if __name__ == '__main__':
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument('--measure', action='store_true', help='recount params and FLOPs')
    write_all(parser.parse_args().measure)
