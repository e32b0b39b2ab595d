from setuptools import find_packages, setup


def read_version():
    scope = {}
    with open('pvtv2_dense/version.py') as f:
        exec(f.read(), scope)
    return scope['__version__']


setup(
    name='pvtv2_dense',
    version=read_version(),
    description='PVTv2 backbones for semantic segmentation, depth estimation and detection '
    'on the OpenMMLab stack',
    long_description=open('README.md').read(),
    long_description_content_type='text/markdown',
    packages=find_packages(exclude=('configs', 'tools', 'tests', 'data')),
    # The weights manifest, and the configs and model index under .mim (links to the repository's
    # configs/ and model-index.yml, copied into a wheel) for `_base_ = 'pvtv2_dense::PATH'`.
    package_data={
        'pvtv2_dense': [
            'zoo/*.yml',
            '.mim/model-index.yml',
            '.mim/configs/*/*.py',
            '.mim/configs/*/*/*.py',
            '.mim/configs/*/*/*/*.py',
            '.mim/configs/*/metafile.yml',
        ]
    },
    python_requires='>=3.10',
    # torch and mmcv (with ops) are installed by tools/setup_env.sh: torch of the user's choice,
    # mmcv compiled against it. The OpenMMLab packages are pinned in requirements/openmmlab.txt.
    install_requires=['numpy', 'safetensors'],
    license='Apache License 2.0',
)
