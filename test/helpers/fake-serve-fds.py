#!/usr/bin/env python3
# The descriptor half of test/helpers/fake-serve.ts (Node cannot receive SCM_RIGHTS): a stand-in berth server
# on a unix socket that takes the front-end's descriptors as the real server (lib/server/) will, uses them, and
# answers EXIT. Usage: fake-serve-fds.py SOCKET STATUS LOG. Prints "ready" once listening; one JSON line per
# request goes to LOG.
import json
import os
import signal
import socket
import struct
import sys

MAGIC = 0x31545242
FRAME_EXIT = 1


def decode(buf):
    at = 12
    def u32():
        nonlocal at
        (v,) = struct.unpack_from('<I', buf, at)
        at += 4
        return v
    def string():
        nonlocal at
        n = u32()
        s = buf[at:at + n].decode()
        at += n
        return s
    version = struct.unpack_from('<I', buf, 4)[0]
    build_id, program, cwd = string(), string(), string()
    argv = [string() for _ in range(u32())]
    env = [string() for _ in range(u32())]
    fds = [u32() for _ in range(u32())]
    return {'version': version, 'buildId': build_id, 'program': program, 'cwd': cwd, 'argv': argv, 'env': env, 'fds': fds}


def serve(conn, status, log):
    # the descriptors ride the first message; the rest of a long payload follows on the stream
    data, fds, _flags, _addr = socket.recv_fds(conn, 1 << 20, 253)
    buf = bytearray(data)
    while len(buf) < 12 or len(buf) < 12 + struct.unpack_from('<I', buf, 8)[0]:
        more = conn.recv(1 << 20)
        if not more:
            return
        buf += more
    assert struct.unpack_from('<I', buf, 0)[0] == MAGIC
    req = decode(bytes(buf))
    by_target = dict(zip(req['fds'], fds))
    stdin = b''
    while True:
        chunk = os.read(by_target[0], 65536)
        if not chunk:
            break
        stdin += chunk
    os.write(by_target[1], f"stdout from the server: {req['program']} {' '.join(req['argv'])}\n".encode())
    os.write(by_target[2], b'stderr from the server\n')
    for target, fd in by_target.items():
        if target >= 3:
            os.write(fd, f'preserved fd {target}\n'.encode())
    for fd in fds:
        os.close(fd)
    req['stdin'] = stdin.decode()
    with open(log, 'a') as f:
        f.write(json.dumps(req) + '\n')
    conn.sendall(struct.pack('<IIi', FRAME_EXIT, 4, status))


def main():
    path, status, log = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))  # so that finally removes the socket
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    server.bind(path)
    os.chmod(path, 0o600)
    server.listen(16)
    print('ready', flush=True)
    try:
        while True:
            conn, _ = server.accept()
            with conn:
                serve(conn, status, log)
    finally:
        os.unlink(path)


if __name__ == '__main__':
    try:
        main()
    except KeyboardInterrupt:
        pass
