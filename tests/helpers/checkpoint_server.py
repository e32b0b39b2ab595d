"""A local HTTP server standing in for checkpoint hosts (no network in tests): files of a folder
at ``/NAME``, and at ``/OWNER/REPO/resolve/REV/NAME`` as the Hugging Face Hub answers; plus a
malicious checkpoint whose unpickling would create a marker file."""

import contextlib
import hashlib
import http.server
import os
import os.path as osp
import socket
import threading

import torch

MAX_REQUESTS = 40  # the server answers no more than this, then 503
HF_COMMIT = 'c0ffee' + '0' * 34


class Payload:
    """Unpickling this would create the marker file: the tests check that it never happens."""

    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f'touch {self.marker}',))


def write_evil(path, marker):
    """A checkpoint that runs ``touch marker`` if unpickled with weights_only=False."""
    torch.save({'state_dict': {'w': torch.zeros(1)}, 'meta': Payload(marker)}, path)


class _Handler(http.server.SimpleHTTPRequestHandler):
    timeout = 10  # seconds a connection may idle

    def _local(self):
        parts = self.path.split('?')[0].strip('/').split('/')
        if len(parts) >= 5 and parts[2] == 'resolve':
            return osp.join(self.server.root, parts[0], parts[1], *parts[4:]), True
        return osp.join(self.server.root, *parts), False

    def _answer(self, body):
        self.server.requests.append(f'{self.command} {self.path}')
        if len(self.server.requests) > MAX_REQUESTS:
            self.send_error(503, 'request limit of the test server reached')
            return
        path, hub = self._local()
        if not osp.isfile(path):
            self.send_error(404)
            return
        with open(path, 'rb') as f:
            data = f.read()
        self.send_response(200)
        self.send_header('Content-Length', str(len(data)))
        self.send_header('Content-Type', 'application/octet-stream')
        if hub:
            self.send_header('X-Repo-Commit', HF_COMMIT)
            self.send_header('ETag', f'"{hashlib.sha256(data).hexdigest()}"')
        self.end_headers()
        if body:
            self.wfile.write(data)

    def do_GET(self):
        self._answer(body=True)

    def do_HEAD(self):
        self._answer(body=False)

    def log_message(self, *args):
        pass


@contextlib.contextmanager
def serve(root):
    """Serve the folder ``root`` on 127.0.0.1 (a free port) until the block ends.

    Yields:
        dict: ``url`` (base URL), ``root``, ``httpd`` (its ``requests`` lists what was asked).
    """
    httpd = http.server.ThreadingHTTPServer(('127.0.0.1', 0), _Handler)
    httpd.root, httpd.requests = str(root), []
    httpd.daemon_threads = True
    thread = threading.Thread(target=httpd.serve_forever, kwargs={'poll_interval': 0.1})
    thread.daemon = True
    previous_timeout = socket.getdefaulttimeout()
    socket.setdefaulttimeout(20)  # urllib's downloads wait no longer than this
    thread.start()
    try:
        yield dict(url=f'http://127.0.0.1:{httpd.server_address[1]}', root=root, httpd=httpd)
    finally:
        socket.setdefaulttimeout(previous_timeout)
        httpd.shutdown()
        httpd.server_close()
        thread.join(timeout=10)
