"""model-index.yml and the metafiles come from the weights manifest, OpenMMLab's reader finds
our configs in them, and the README / docs tables are the ones the metafiles give."""

import os.path as osp

import yaml
from mmengine.config.utils import _get_cfg_metainfo

from pvtv2_dense.zoo.metafiles import TABLE_START, build_metafiles, fill_tables, runnable, tables
from tests.helpers.common import ROOT


def _read(rel):
    with open(osp.join(ROOT, rel), encoding='utf-8') as f:
        return f.read()


def test_metafiles_are_generated_from_the_manifest():
    files = build_metafiles()
    assert set(files['model-index.yml']['Import']) == set(files) - {'model-index.yml'}
    for path, content in files.items():
        assert yaml.safe_load(_read(path)) == content, (
            f'{path} is stale: python -m pvtv2_dense.zoo.metafiles'
        )
    listed = [m['Name'] for p, c in files.items() if p != 'model-index.yml' for m in c['Models']]
    assert sorted(listed) == sorted(runnable())
    for content in list(files.values())[1:]:
        for model in content['Models']:
            assert osp.isfile(osp.join(ROOT, model['Config'])), model['Config']
            assert model['Weights'].startswith('https://')


def test_openmmlab_reads_the_model_index_through_the_package():
    meta = _get_cfg_metainfo(
        osp.join(ROOT, 'pvtv2_dense'), 'segformer/segformer_mit-b0_8xb2-160k_ade20k-512x512.py'
    )
    assert meta['Name'] == 'segformer_mit-b0_ade20k-512x512'
    assert meta['Results'][0]['Metrics'] == {'mIoU': 37.4}


def test_readme_and_docs_tables_match_the_metafiles():
    tabs = tables(build_metafiles())
    for doc, prefix, keys in (
        ('README.md', '', ['summary']),
        ('docs/model_zoo.md', '../', [k for k in tabs if k != 'summary']),
    ):
        text = _read(doc)
        for key in keys:
            assert TABLE_START.format(key) in text, f'{doc} lacks the {key} table'
        assert fill_tables(text, tabs, prefix) == text, (
            f'{doc} tables are stale: python -m pvtv2_dense.zoo.metafiles'
        )


def test_a_changed_result_is_caught(tmp_path):
    files = build_metafiles()
    tabs = tables(files)
    text = _read('docs/model_zoo.md')
    files['configs/segformer/metafile.yml']['Models'][0]['Results'][0]['Metrics']['mIoU'] = 99.9
    assert fill_tables(text, tables(files), '../') != text
    assert fill_tables(text, tabs, '../') == text
