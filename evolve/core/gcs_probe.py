"""Whether a server is a Ray cluster's GCS: one gRPC call over HTTP/2 on a plain socket, standard library only.

A Ray cluster's address is its GCS, a gRPC server. `ray.init` retries an address that is not one for a
minute and more, printing Ray's warnings, and hears no Ctrl-C meanwhile, so the address is asked first.
Answering HTTP/2 (`answers_http2`) is not enough to tell: every gRPC or h2c service does, the Ray
client's port 10001 among them. So `gcs_status` calls a method only the GCS has and that needs
nothing from the caller but the cluster's token, if it asks for one,
`ray.rpc.NodeInfoGcsService/GetClusterId` (what Ray's own clients ask first): the GCS answers it with
a message (status 0), any other gRPC server with an error status alone (12, UNIMPLEMENTED), a plain
h2c server with no gRPC answer at all; a server that wants a token answers 16 (UNAUTHENTICATED)
without saying whether it is a GCS.

The frames are written by hand (HTTP/2: RFC 9113; its header compression, literals only: RFC 7541;
gRPC over HTTP/2) because Ray does not bring grpcio. Every read is a plain socket read bounded by the
caller's deadline, so a server that never answers costs at most that, and Ctrl-C goes through at once.
"""

from __future__ import annotations

import socket
import time

GCS_METHOD = "/ray.rpc.NodeInfoGcsService/GetClusterId"
OK, UNAUTHENTICATED = 0, 16  # gRPC status codes
_PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"  # a client's first bytes (RFC 9113 3.4)
_DATA, _HEADERS, _RST_STREAM, _SETTINGS, _PING, _GOAWAY = 0, 1, 3, 4, 6, 7  # frame types
_END_STREAM = _ACK = 0x1  # frame flags
_END_HEADERS, _PADDED = 0x4, 0x8
_STREAM = 1  # the one stream the call uses
_MAX_FRAME = 16_384  # the largest frame a server may send before it is allowed more (SETTINGS_MAX_FRAME_SIZE)
_MAX_MESSAGE = 4 * 1024 * 1024  # gRPC's default largest message: a larger declared length is no gRPC message
Frame = tuple[int, int, int, bytes]  # type, flags, stream, payload


def answers_http2(sock: socket.socket, deadline: float) -> bool:
    """Whether the server at the other end of `sock` answers a client's preface as an HTTP/2 server does (with
    its SETTINGS). `TimeoutError` when nothing came by `deadline` (a `time.monotonic()` time)."""
    sock.sendall(_PREFACE + _frame(_SETTINGS, 0, 0))
    first = _read_frame(sock, deadline)
    if first is None:
        return False
    kind, flags, stream, payload = first
    return kind == _SETTINGS and not flags & _ACK and stream == 0 and len(payload) % 6 == 0


def gcs_status(sock: socket.socket, authority: str, token: str | None, deadline: float) -> int | None:
    """After `answers_http2`: the gRPC status of a call to `GCS_METHOD`, 0 when a message came (only Ray's GCS
    sends one); None when no gRPC answer came (the connection closed, a plain HTTP/2 reply).

    `authority` is the `HOST:PORT` called; `token` the cluster's, sent as Ray sends it (`authorization:
    Bearer TOKEN`). `TimeoutError` when no answer came by `deadline`.
    """
    sock.sendall(_frame(_SETTINGS, _ACK, 0) + _call(authority, token))
    while (frame := _read_frame(sock, deadline)) is not None:
        kind, flags, stream, payload = frame
        if kind == _PING and not flags & _ACK:
            sock.sendall(_frame(_PING, _ACK, 0, payload))
        elif kind == _GOAWAY or (stream == _STREAM and kind == _RST_STREAM):
            return None
        elif stream == _STREAM and kind == _DATA:
            return OK if _is_grpc_message(payload, flags) else None
        elif stream == _STREAM and kind == _HEADERS and flags & _END_STREAM:
            return _status(payload)  # a status and no message: the method is not there, or the call refused
    return None


def _status(block: bytes) -> int | None:
    """grpc-status in a header block, where gRPC servers put it (a literal field, not Huffman-coded); else None."""
    at = block.find(b"\x0bgrpc-status")
    value = block[at + 12 : at + 16] if at >= 0 else b""
    if not value or not 0 < value[0] <= 3:  # a length of 1 to 3 digits, its top (Huffman) bit clear
        return None
    digits = value[1 : 1 + value[0]]
    return int(digits) if len(digits) == value[0] and digits.isdigit() else None


def _is_grpc_message(payload: bytes, flags: int) -> bool:
    """Whether a DATA frame starts a gRPC message: a compressed flag of 0 or 1 and a length within gRPC's limit."""
    if flags & _PADDED:
        payload = payload[1 : len(payload) - payload[0]] if payload else b""
    return len(payload) >= 5 and payload[0] in (0, 1) and int.from_bytes(payload[1:5], "big") <= _MAX_MESSAGE


def _call(authority: str, token: str | None) -> bytes:
    """The HEADERS and DATA frames of a unary gRPC call to `GCS_METHOD` with an empty request message."""
    fields = (
        b"\x83"  # :method POST (entry 3 of HPACK's static table)
        b"\x86"  # :scheme http (entry 6)
        + _field(4, GCS_METHOD)  # :path
        + _field(1, authority)  # :authority
        + _field(31, "application/grpc")  # content-type
        + b"\x00"
        + _string("te")
        + _string("trailers")
        + (_field(23, f"Bearer {token}") if token else b"")  # authorization
    )
    message = b"\x00" + (0).to_bytes(4, "big")  # not compressed, 0 bytes: an empty GetClusterIdRequest
    return _frame(_HEADERS, _END_HEADERS, _STREAM, fields) + _frame(_DATA, _END_STREAM, _STREAM, message)


def _field(name_index: int, value: str) -> bytes:
    """A header field not added to the table, its name an entry of HPACK's static table (RFC 7541 6.2.2)."""
    return _integer(name_index, 4) + _string(value)


def _string(text: str) -> bytes:
    """An HPACK string literal, not Huffman-coded (RFC 7541 5.2)."""
    data = text.encode()
    return _integer(len(data), 7) + data


def _integer(value: int, prefix_bits: int) -> bytes:
    """An HPACK integer with an N-bit prefix, the prefix byte's other bits 0 (RFC 7541 5.1)."""
    limit = (1 << prefix_bits) - 1
    if value < limit:
        return bytes([value])
    out, value = [limit], value - limit
    while value >= 128:
        out.append(value % 128 + 128)
        value //= 128
    return bytes([*out, value])


def _frame(kind: int, flags: int, stream: int, payload: bytes = b"") -> bytes:
    """One HTTP/2 frame (RFC 9113 4.1)."""
    return len(payload).to_bytes(3, "big") + bytes([kind, flags]) + stream.to_bytes(4, "big") + payload


def _read_frame(sock: socket.socket, deadline: float) -> Frame | None:
    """The next frame; None when the connection closes or what comes is no HTTP/2 frame (too long to be one)."""
    head = _read(sock, 9, deadline)
    if head is None or int.from_bytes(head[:3], "big") > _MAX_FRAME:
        return None
    payload = _read(sock, int.from_bytes(head[:3], "big"), deadline)
    if payload is None:
        return None
    return head[3], head[4], int.from_bytes(head[5:], "big") & 0x7FFFFFFF, payload


def _read(sock: socket.socket, size: int, deadline: float) -> bytes | None:
    """Exactly `size` bytes, None if the connection closes first; `TimeoutError` at `deadline`."""
    data = b""
    while len(data) < size:
        left = deadline - time.monotonic()
        if left <= 0:
            raise TimeoutError
        sock.settimeout(left)
        more = sock.recv(size - len(data))
        if not more:
            return None
        data += more
    return data
