"""Running the scripts in ``tools/`` from tests: in this process, or as a subprocess."""

import importlib.util
import os
import os.path as osp
import socket
import subprocess
import sys

from .common import ROOT


def load_tool(rel):
    """Import a tool script as a module (its ``main(argv)`` runs in this process)."""
    name = 'tool_' + rel.replace('/', '_').replace('.py', '')
    spec = importlib.util.spec_from_file_location(name, osp.join(ROOT, rel))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def free_port():
    """A TCP port on 127.0.0.1 that is free now (for the launchers' rendezvous)."""
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


def run_script(script, *args, timeout=240):
    """Run ``bash tools/<script> ARGS`` with this interpreter; asserts it succeeds."""
    env = dict(os.environ, PYTHON=sys.executable, PORT=str(free_port()), OMP_NUM_THREADS='1')
    proc = subprocess.run(
        ['bash', osp.join(ROOT, 'tools', script), *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return proc


def run_python(args, cwd):
    """Run ``python ARGS`` with the repository on the path; asserts it succeeds."""
    env = dict(os.environ, PYTHONPATH=ROOT, OMP_NUM_THREADS='1')
    proc = subprocess.run([sys.executable, *args], cwd=cwd, env=env, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return proc
