#!/usr/bin/env python3
"""A chaos run's clients, all through the VIP (run in the client's namespace):

- requests: one HTTP/1.0 request to VIP:80 every 20 ms (`R <t> ok <server>` or `R <t> fail <why>`);
- connects: a TCP connection to VIP:80 every 10 ms, closed at once (`C <t>` when it connected, `c <t>`
  when not);
- streams: STREAMS long-lived connections to VIP:80, each sending a line every 100 ms and waiting
  at most 1 s for its echo (`S <t> <id> start <server>`, `S <t> <id> end <why> <age> <server>`);
- persistent clients: each of the SOURCES asks VIP:81 (persistent) for its server once a second
  (`P <t> <source> <server>` or `P <t> <source> fail`).
Times are CLOCK_MONOTONIC, the same clock as the run's (one kernel)."""
import socket
import sys
import threading
import time

vip, sources, streams = sys.argv[1], sys.argv[2].split(","), int(sys.argv[3])
# Each kind of client its own source address: a stream that a failover cut leaves its connection
# open at the real server (its reset went elsewhere), and a request that reused its port there
# would meet that, a TCP matter of the test's one busy client, not of the pair.
STREAMS_FROM, REQUESTS_FROM = sys.argv[4], sys.argv[5]
lock = threading.Lock()


def say(line):
    with lock:
        sys.stdout.write(line + "\n")
        sys.stdout.flush()


def get(port, src=None, timeout=0.5):
    name, why, sport = ask(port, src, timeout)
    return name, why if not why else f"{why} {sport}"


def ask(port, src, timeout):
    s = socket.socket()
    s.settimeout(timeout)
    sport = 0
    try:
        if src:
            s.bind((src, 0))
        try:
            s.connect((vip, port))
        finally:
            sport = s.getsockname()[1]
        s.sendall(b"GET /req/%s HTTP/1.0\r\n\r\n" % (src or "r").encode())
        data = b""
        while True:
            d = s.recv(512)
            if not d:
                break
            data += d
        head, _, body = data.partition(b"\r\n\r\n")
        if not head.startswith(b"HTTP/1.0 200"):
            return None, "bad_answer", sport
        return body.decode().strip(), None, sport
    except socket.timeout:
        return None, "timeout", sport
    except ConnectionRefusedError:
        return None, "refused", sport
    except ConnectionResetError:
        return None, "reset", sport
    except OSError as e:
        return None, f"error{e.errno}", sport
    finally:
        s.close()


def requests():
    while True:
        t = time.monotonic()
        name, why = get(80, REQUESTS_FROM)
        say(f"R {t:.4f} ok {name}" if name else f"R {t:.4f} fail {why}")
        time.sleep(max(0.0, 0.02 - (time.monotonic() - t)))


def connects():
    while True:
        t = time.monotonic()
        s = socket.socket()
        s.settimeout(0.3)
        try:
            s.connect((vip, 80))
            say(f"C {t:.4f} {s.getsockname()[1]}")
        except OSError as e:
            say(f"c {t:.4f} {s.getsockname()[1]} {type(e).__name__}")
        finally:
            s.close()
        time.sleep(max(0.0, 0.01 - (time.monotonic() - t)))


def stream(i):
    while True:
        t0 = time.monotonic()
        s = socket.socket()
        s.settimeout(1.0)
        server = "-"
        try:
            s.bind((STREAMS_FROM, 0))
            s.connect((vip, 80))
            s.sendall(b"STREAM\n")
            f = s.makefile("rb")
            server = f.readline(100).decode().strip() or "-"
            if server == "-":
                raise ConnectionResetError()
            say(f"S {time.monotonic():.4f} {i} start {server}")
            seq = 0
            while True:
                seq += 1
                s.sendall(b"x%d\n" % seq)
                line = f.readline(100)
                if line != b"x%d\n" % seq:
                    raise ConnectionResetError() if not line else ValueError()
                time.sleep(0.1)
        except socket.timeout:
            why = "timeout"
        except ConnectionResetError:
            why = "reset"
        except ValueError:
            why = "garbled"
        except OSError as e:
            why = f"error{e.errno}"
        finally:
            s.close()
        say(f"S {time.monotonic():.4f} {i} end {why} {time.monotonic() - t0:.2f} {server}")
        time.sleep(0.2)


def persistent():
    while True:
        t = time.monotonic()
        for src in sources:
            name, _ = get(81, src)
            say(f"P {time.monotonic():.4f} {src} {name or 'fail'}")
        time.sleep(max(0.0, 1.0 - (time.monotonic() - t)))


threading.Thread(target=requests, daemon=True).start()
threading.Thread(target=connects, daemon=True).start()
threading.Thread(target=persistent, daemon=True).start()
for i in range(streams):
    threading.Thread(target=stream, args=(i,), daemon=True).start()
while True:
    time.sleep(3600)
