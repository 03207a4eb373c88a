#!/usr/bin/env python3
"""A chaos run's real server: listens on ADDR ports 80 and 81 and names itself.

- `GET /health ...` (the director's check) and `GET /req/...` (a client's request) are answered
  `200` with the server's name as the body;
- `STREAM` starts an echo of every line (a long-lived stream);
- SIGUSR1 makes it hang (accept, read, never answer), SIGUSR2 normal again (`M <t> 1|0` says when).
Each client connection it accepts is logged to stdout as `A <accepted, monotonic> <port> <first line>`
(not the checks'), so the run knows which server received what and when; `T <t> <seconds>` says the
server itself stalled from t (its checks may time out then)."""
import signal
import socket
import sys
import threading
import time

addr, name = sys.argv[1], sys.argv[2]
hang = threading.Event()
out_lock = threading.Lock()


def say(line):
    with out_lock:
        sys.stdout.write(line + "\n")
        sys.stdout.flush()


def talk(c, port, accepted):
    try:
        c.settimeout(30)
        f = c.makefile("rb")
        first = f.readline(200).decode(errors="replace").strip()
        if not first.startswith("GET /health"):
            # when it was accepted: the first line can come later (a busy interpreter), and what is
            # judged is when the director sent the connection here
            say(f"A {accepted:.4f} {port} {first.split(' ')[1] if ' ' in first else first}")
        if hang.is_set():
            while f.read(100):  # hold the connection, answer nothing
                pass
            return
        if first.startswith("GET "):
            body = name.encode() + b"\n"
            c.sendall(b"HTTP/1.0 200 OK\r\nContent-Length: %d\r\n\r\n%s" % (len(body), body))
        elif first.startswith("STREAM"):
            c.sendall(name.encode() + b"\n")
            while True:
                line = f.readline(200)
                if not line:
                    break
                if hang.is_set():
                    continue
                c.sendall(line)
    except OSError:
        pass
    finally:
        c.close()


def serve(port):
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((addr, port))
    s.listen(512)
    while True:
        c, _ = s.accept()
        threading.Thread(target=talk, args=(c, port, time.monotonic()), daemon=True).start()


def mode(hung):
    (hang.set if hung else hang.clear)()
    say(f"M {time.monotonic():.4f} {int(hung)}")


signal.signal(signal.SIGUSR1, lambda *_: mode(True))
signal.signal(signal.SIGUSR2, lambda *_: mode(False))
# Only the main thread takes the signals: one delivered to a serving thread would run its Python
# handler only when the main thread next wakes (and it sleeps), so the hang came late or never.
signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGUSR1, signal.SIGUSR2})
for p in (80, 81):
    threading.Thread(target=serve, args=(p,), daemon=True).start()
signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGUSR1, signal.SIGUSR2})


def watch_self():
    """This interpreter's own stalls (descheduled, or a thread holding the GIL): `T <t> <seconds>`
    when a 50 ms sleep took over 0.25 s. A director's check that timed out then is no fault of
    the director."""
    last = time.monotonic()
    while True:
        time.sleep(0.05)
        t = time.monotonic()
        if t - last > 0.25:
            say(f"T {last:.4f} {t - last:.3f}")
        last = t


threading.Thread(target=watch_self, daemon=True).start()
say(f"L {time.monotonic():.4f} listening")
while True:
    signal.pause()
