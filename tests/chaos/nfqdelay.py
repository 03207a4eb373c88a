#!/usr/bin/env python3
"""Delays the packets of one NFQUEUE queue by a fixed time (the host kernel has no netem): the run
puts `iptables -A INPUT ... -j NFQUEUE --queue-num N` in a director's namespace and runs this there.
Speaks nfnetlink_queue itself (no Python binding in Debian): binds the queue, copies metadata only,
and gives each packet its NF_ACCEPT verdict DELAY_MS after it arrived, in order.
Usage: nfqdelay.py QUEUE DELAY_MS"""
import heapq
import socket
import struct
import sys
import threading
import time

NETLINK_NETFILTER = 12
NFQNL_MSG_PACKET, NFQNL_MSG_VERDICT, NFQNL_MSG_CONFIG = 0, 1, 2
SUBSYS_QUEUE = 3
NLM_F_REQUEST, NLM_F_ACK = 1, 4
NFQA_CFG_CMD, NFQA_CFG_PARAMS = 1, 2
NFQNL_CFG_CMD_BIND = 1
NFQNL_COPY_META = 1
NFQA_PACKET_HDR, NFQA_VERDICT_HDR = 1, 2
NF_ACCEPT = 1

queue, delay = int(sys.argv[1]), float(sys.argv[2]) / 1000
sock = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, NETLINK_NETFILTER)
sock.bind((0, 0))
sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 20)
seq = 0


def attr(kind, payload):
    a = struct.pack("=HH", 4 + len(payload), kind) + payload
    return a + b"\0" * ((4 - len(a) % 4) % 4)


def send(msg_type, attrs, flags=NLM_F_REQUEST, family=socket.AF_INET):
    global seq
    seq += 1
    body = struct.pack("=BBH", family, 0, socket.htons(queue)) + b"".join(attrs)
    sock.send(struct.pack("=IHHII", 16 + len(body), (SUBSYS_QUEUE << 8) | msg_type, flags, seq, 0) + body)


send(NFQNL_MSG_CONFIG, [attr(NFQA_CFG_CMD, struct.pack("!BxH", NFQNL_CFG_CMD_BIND, socket.AF_INET))],
     NLM_F_REQUEST | NLM_F_ACK)
send(NFQNL_MSG_CONFIG, [attr(NFQA_CFG_PARAMS, struct.pack("!IB", 0, NFQNL_COPY_META))], NLM_F_REQUEST | NLM_F_ACK)

pending = []
cv = threading.Condition()


def releaser():
    while True:
        with cv:
            while not pending or pending[0][0] > time.monotonic():
                cv.wait(None if not pending else max(0.0, pending[0][0] - time.monotonic()))
            _, pid = heapq.heappop(pending)
        send(NFQNL_MSG_VERDICT, [attr(NFQA_VERDICT_HDR, struct.pack("!II", NF_ACCEPT, pid))])


threading.Thread(target=releaser, daemon=True).start()
print("bound", flush=True)
while True:
    data = sock.recv(65536)
    off = 0
    while off + 16 <= len(data):
        length, kind, _, _, _ = struct.unpack_from("=IHHII", data, off)
        if length < 16:
            break
        if kind == 2:  # NLMSG_ERROR: an ack (error 0) or a refusal
            err, _, _, _, failed_seq, _ = struct.unpack_from("=iIHHII", data, off + 16)
            # the configuration (messages 1 and 2) must hold; a verdict may find its packet gone
            # (the kernel drops what is queued for a device that went down): not an error here
            if err and failed_seq <= 2:
                sys.exit(f"nfqdelay: the kernel refused the queue's configuration: errno {-err}")
        elif kind == (SUBSYS_QUEUE << 8) | NFQNL_MSG_PACKET:
            a = off + 20
            while a + 4 <= off + length:
                alen, atype = struct.unpack_from("=HH", data, a)
                if alen < 4:
                    break
                if atype & 0x3fff == NFQA_PACKET_HDR:
                    pid = struct.unpack_from("!I", data, a + 4)[0]
                    with cv:
                        heapq.heappush(pending, (time.monotonic() + delay, pid))
                        cv.notify()
                a += (alen + 3) & ~3
        off += (length + 3) & ~3
