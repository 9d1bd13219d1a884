#!/usr/bin/env python3
"""Git's smart HTTP protocol on loopback, behind a password, for tests:
git-http-server.py PORT PROJECT_ROOT USER PASSWORD LOG

Runs `git http-backend` (CGI) for every request that carries the user and password as HTTP
Basic credentials; any other request gets 401 with a Basic challenge. Each request is logged
to LOG as `METHOD PATH STATUS`, for tests that count what a client asked for.
"""
import base64
import http.server
import os
import subprocess
import sys
import threading
import time


def exit_with_parent(parent):
    """A test that dies without stopping its server must not leave it behind."""
    while os.getppid() == parent:
        time.sleep(0.5)
    os._exit(0)


PORT, ROOT, USER, PASSWORD, LOG = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4], sys.argv[5]
LOCK = threading.Lock()


def record(method, path, status):
    with LOCK, open(LOG, "a") as log:
        log.write(f"{method} {path} {status}\n")
EXPECTED = "Basic " + base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()


class Handler(http.server.BaseHTTPRequestHandler):
    def handle_git(self):
        if self.headers.get("Authorization") != EXPECTED:
            record(self.command, self.path, 401)
            self.send_response(401)
            self.send_header("WWW-Authenticate", 'Basic realm="helios-test"')
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        path, _, query = self.path.partition("?")
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        environment = dict(os.environ, GIT_PROJECT_ROOT=ROOT, GIT_HTTP_EXPORT_ALL="1", PATH_INFO=path,
                           QUERY_STRING=query, REQUEST_METHOD=self.command, REMOTE_USER=USER,
                           CONTENT_TYPE=self.headers.get("Content-Type", ""), CONTENT_LENGTH=str(len(body)))
        if self.headers.get("Content-Encoding"):
            environment["HTTP_CONTENT_ENCODING"] = self.headers["Content-Encoding"]
        output = subprocess.run(["git", "http-backend"], input=body, env=environment, capture_output=True).stdout
        head, _, payload = output.partition(b"\r\n\r\n")
        status = 200
        headers = []
        for line in head.decode().split("\r\n"):
            name, _, value = line.partition(": ")
            if name.lower() == "status":
                status = int(value.split()[0])
            elif name:
                headers.append((name, value))
        record(self.command, self.path, status)
        self.send_response(status)
        for name, value in headers:
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    do_GET = handle_git
    do_POST = handle_git

    def log_message(self, *arguments):
        pass


threading.Thread(target=exit_with_parent, args=(os.getppid(),), daemon=True).start()
server = http.server.ThreadingHTTPServer(("127.0.0.1", PORT), Handler)
print("listening", flush=True)
server.serve_forever()
