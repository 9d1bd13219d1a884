#!/usr/bin/env python3
"""A TCP server on loopback that accepts every connection and never answers: a stalled git
remote, for the tests. Prints its port, then serves until killed."""
import socket
import sys

server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
server.bind(("127.0.0.1", 0))
server.listen(16)
print(server.getsockname()[1], flush=True)
held = []
while True:
    connection, _ = server.accept()
    held.append(connection)  # kept open, never read from or written to
