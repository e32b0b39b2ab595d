"""Download published weights by name (the weights manifest, pvtv2_dense/zoo/manifest.yml) into
the cache, so that later runs need no network; with --out, also fill a mirror folder that an
offline cluster serves through PVTV2_DENSE_MIRROR (docs/model_zoo.md).

Examples:
    python tools/download.py --list
    python tools/download.py pvt_v2_b2 segformer_mit-b0_ade20k-512x512
    python tools/download.py pvt_v2_b0 glpn_nyu --out /mnt/pvtv2_mirror
"""

import argparse

from pvtv2_dense.cli import CLIError, ToolParser, cli_entry
from pvtv2_dense.zoo.download import describe_manifest, download


@cli_entry
def main(argv=None):
    parser = ToolParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('names', nargs='*', metavar='NAME', help='manifest names')
    parser.add_argument('--out', help='also copy the files here, as <name>/<file> (a mirror)')
    parser.add_argument('--list', action='store_true', help='list the manifest names and exit')
    args = parser.parse_args(argv)
    if args.list:
        print('\n'.join(describe_manifest()))
        return
    if not args.names:
        raise CLIError('name at least one checkpoint (see --list)')
    print('\n'.join(download(args.names, args.out)))


if __name__ == '__main__':
    main()
