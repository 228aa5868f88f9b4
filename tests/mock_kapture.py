#!/usr/bin/env python3
"""A strict local stand-in for the Kapture CX ticket API (stdlib only).

Usage:
    python3 tests/mock_kapture.py --port-file PATH --record PATH [--token TOKEN]
        [--shape array|object|any] [--latency-ms MS] [--fail-next N]
        [--fault KIND] [--retry-after SECONDS] [--capitalize]
        [--first-ticket-id N] [--port N] [--quiet]

Listens on 127.0.0.1 only (port 0 = ephemeral unless --port), writes the
port number to --port-file atomically once listening, and serves HTTP/1.1
with keep-alive until SIGTERM or SIGINT, then exits 0.

API endpoints (POST only, checked the way the real API behaves):
    /add-ticket-from-other-source.html/v.2.0      create a ticket
    /update-ticket-from-other-source.html/v.2.0   comment on / change a ticket
Checks, in order: Authorization must be exactly "Basic <TOKEN>" (else HTTP
200 {"message":"Invalid Auth Key","status":"failed"}); Content-Type must be
application/json (else 415); the body must be UTF-8 JSON shaped per --shape
(else 400); add: "title" must be a non-blank string ("title is missing"),
"due_date", when present and non-empty, must be "yyyy-MM-dd HH:mm:ss";
update: "ticket_id" and "sub_status" are required and the ticket must exist.
The token comes from --token, else $KAPTURE_TOKEN, else "test-token".

Fault injection (CLI options, or at runtime via POST /_mock/config with a
JSON object using the same names: latency_ms, fail_next, fault, retry_after,
shape, capitalize, token):
    latency_ms   sleep this long before answering any API request
    fail_next    the next N API requests get `fault` (-1: all of them)
    fault        500 | 502html | 503 | 429 | hang | reset | failed | auth,
                 or any other 3-digit HTTP status (JSON "failed" body).
                 Default 500.
    retry_after  value of the Retry-After header sent with 429 (default 2)
    capitalize   answer with "Status"/"Message" keys (older API docs)

Control endpoints (never recorded, never faulted, no auth):
    GET  /_mock/requests  the record as a JSON array
    GET  /_mock/stats     counters
    GET  /_mock/config    the current settings (without the token)
    POST /_mock/config    change settings; answers with the new settings

Record: every request to a non-control path, rejected and faulted ones
included, is appended to --record as one JSON line and flushed *before* the
response is sent (so a client that has seen a response can rely on the
record line being there):
    {"n", "method", "path", "kind": "add"|"update"|"other",
     "auth_ok", "auth_error", "content_type", "body": parsed JSON or null,
     "raw", "status": HTTP status or null (hang/reset),
     "result": "success"|"failed"|"http_error"|"hang"|"reset",
     "message", "ticket_id", "fault", "token_in_request", "time"}
"result" is "failed" for every answer carrying a failed JSON status (any
HTTP code), "http_error" for non-JSON error pages. The token (and any value
ever configured as token) is never written to the record, stdout or
stderr: if a client leaks it into the path or body it is replaced by
"<REDACTED>" and "token_in_request" is true.
"""

import argparse
import base64
import datetime
import json
import os
import re
import signal
import socket
import struct
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

ADD_PATH = "/add-ticket-from-other-source.html/v.2.0"
UPDATE_PATH = "/update-ticket-from-other-source.html/v.2.0"
CONTROL_PREFIX = "/_mock/"

FIRST_TICKET_ID = 713516551148   # the seed's ticket_id
FIRST_INTERNAL_ID = 530348198     # the seed's ticket.id
DEFAULT_TOKEN = "test-token"
MAX_BODY = 16 * 1024 * 1024
REDACTED = "<REDACTED>"

DUE_RE = re.compile(r"\A\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}\Z")
NAMED_FAULTS = ("500", "502html", "503", "429", "hang", "reset", "failed", "auth")
SHAPES = ("array", "object", "any")


def valid_fault(value):
    return value in NAMED_FAULTS or (
        isinstance(value, str) and re.fullmatch(r"[1-5]\d\d", value) is not None)


def html_page(status, reason):
    return ("<!DOCTYPE html>\n<html><head><title>%d %s</title></head>\n"
            "<body><h1>%d %s</h1><hr><center>nginx</center></body></html>\n"
            % (status, reason, status, reason)).encode()


def now_str():
    return datetime.datetime.now().strftime("%Y-%m-%d %H:%M:%S")


class Response:
    """What to answer; also the facts the record needs."""

    def __init__(self, status, payload=None, html=None, result="failed",
                 message=None, ticket_id=None, headers=None):
        self.status = status
        self.payload = payload    # dict -> JSON body
        self.html = html          # bytes -> text/html body
        self.result = result
        self.message = message
        self.ticket_id = ticket_id
        self.headers = headers or {}


class Settings:
    """Runtime-changeable settings; all access under one lock."""

    KEYS = ("latency_ms", "fail_next", "fault", "retry_after", "shape",
            "capitalize", "token")

    def __init__(self, token):
        self.lock = threading.Lock()
        self.latency_ms = 0
        self.fail_next = 0
        self.fault = "500"
        self.retry_after = "2"
        self.shape = "any"
        self.capitalize = False
        self.token = token
        # Every token ever configured, so none of them is ever logged.
        self.all_tokens = {token}

    def update(self, changes):
        """Validate all of `changes` first, then apply; raises ValueError."""
        if not isinstance(changes, dict):
            raise ValueError("config must be a JSON object")
        clean = {}
        for key, value in changes.items():
            if key not in self.KEYS:
                raise ValueError("unknown setting %r" % key)
            if key in ("latency_ms", "fail_next"):
                if isinstance(value, bool) or not isinstance(value, int):
                    raise ValueError("%s must be an integer" % key)
                if value < (-1 if key == "fail_next" else 0):
                    raise ValueError("%s out of range" % key)
            elif key == "fault":
                value = str(value)
                if not valid_fault(value):
                    raise ValueError("unknown fault %r" % value)
            elif key == "retry_after":
                value = str(value)
            elif key == "shape":
                if value not in SHAPES:
                    raise ValueError("shape must be one of %s" % ", ".join(SHAPES))
            elif key == "capitalize":
                if not isinstance(value, bool):
                    raise ValueError("capitalize must be true or false")
            elif key == "token":
                if not isinstance(value, str) or not value:
                    raise ValueError("token must be a non-empty string")
            clean[key] = value
        with self.lock:
            for key, value in clean.items():
                setattr(self, key, value)
                if key == "token":
                    self.all_tokens.add(value)

    def public(self):
        with self.lock:
            return {k: getattr(self, k) for k in self.KEYS if k != "token"}

    def snapshot(self):
        with self.lock:
            return {k: getattr(self, k) for k in self.KEYS}

    def take_fault(self):
        """Consume one fault for an API request, or return None."""
        with self.lock:
            if self.fail_next == 0:
                return None
            if self.fail_next > 0:
                self.fail_next -= 1
            return self.fault

    def redact(self, text):
        """Replace any configured token in text; returns (text, found)."""
        with self.lock:
            tokens = sorted(self.all_tokens, key=len, reverse=True)
        found = False
        for tok in tokens:
            if tok and tok in text:
                text = text.replace(tok, REDACTED)
                found = True
        return text, found


class State:
    """Tickets, the record and counters; all access under one lock."""

    def __init__(self, record_path, first_ticket_id):
        self.lock = threading.Lock()
        self.record = open(record_path, "a", encoding="utf-8")
        self.records = []
        self.seq = 0
        self.next_ticket = first_ticket_id
        self.next_internal = FIRST_INTERNAL_ID
        self.tickets = {}   # ticket_id (str) -> {"title", "sub_status", "comments"}
        self.in_flight = 0
        self.stats = {"requests": 0, "by_kind": {}, "by_status": {},
                      "faults": 0, "auth_failed": 0, "tickets_created": 0,
                      "tickets_updated": 0, "token_in_request": 0}

    def create_ticket(self, fields):
        with self.lock:
            tid = str(self.next_ticket)
            internal = self.next_internal
            self.next_ticket += 1
            self.next_internal += 1
            self.tickets[tid] = {"title": fields.get("title"), "sub_status": "P",
                                 "comments": []}
            self.stats["tickets_created"] += 1
        return tid, internal

    def update_ticket(self, tid, comment, sub_status):
        with self.lock:
            t = self.tickets.get(tid)
            if t is None:
                return False
            t["sub_status"] = sub_status
            if comment:
                t["comments"].append(comment)
            self.stats["tickets_updated"] += 1
            return True

    def add_record(self, entry):
        with self.lock:
            self.seq += 1
            entry = dict(n=self.seq, **entry)
            if not self.record.closed:   # late handler threads at shutdown
                self.record.write(json.dumps(entry, ensure_ascii=False) + "\n")
                self.record.flush()
            self.records.append(entry)
            s = self.stats
            s["requests"] += 1
            kind = s["by_kind"].setdefault(entry["kind"], {})
            kind[entry["result"]] = kind.get(entry["result"], 0) + 1
            status = str(entry["status"]) if entry["status"] is not None else "none"
            s["by_status"][status] = s["by_status"].get(status, 0) + 1
            if entry["fault"]:
                s["faults"] += 1
            if not entry["auth_ok"]:
                s["auth_failed"] += 1
            if entry["token_in_request"]:
                s["token_in_request"] += 1
        return entry

    def get_stats(self):
        with self.lock:
            return json.loads(json.dumps(dict(self.stats, in_flight=self.in_flight)))

    def get_records(self):
        with self.lock:
            return list(self.records)


def _reject_constant(name):
    raise ValueError("%s is not valid JSON" % name)


def parse_json(raw):
    """Strict JSON parse of the body bytes: (value, error message or None)."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        return None, "request body is not valid UTF-8"
    try:
        return json.loads(text, parse_constant=_reject_constant), None
    except ValueError as e:
        return None, "request body is not valid JSON: %s" % e


def check_auth(values, token):
    """(ok, reason) for the Authorization header values; reason never holds the token."""
    if not values:
        return False, "missing Authorization header"
    if len(values) > 1:
        return False, "multiple Authorization headers"
    value = values[0]
    if value == "Basic " + token:
        return True, None
    if not value.startswith("Basic "):
        return False, "Authorization is not 'Basic <token>'"
    cred = value[len("Basic "):]
    if cred == base64.b64encode(token.encode()).decode():
        return False, "token was base64-encoded again (send it as issued)"
    if cred.strip() == token:
        return False, "whitespace around the token"
    return False, "wrong token"


def failed(settings_snap, message, status=200):
    if settings_snap["capitalize"]:
        payload = {"Message": message, "Status": "failed"}
    else:
        payload = {"message": message, "status": "failed"}
    return Response(status, payload=payload, result="failed", message=message)


def unwrap(body, shape):
    """The single ticket object of a request body, or (None, error)."""
    if isinstance(body, dict):
        if shape == "array":
            return None, "expected an array holding one object"
        return body, None
    if isinstance(body, list):
        if shape == "object":
            return None, "expected a JSON object"
        if len(body) != 1 or not isinstance(body[0], dict):
            return None, "expected an array holding exactly one object"
        return body[0], None
    return None, ("expected a JSON object or an array holding exactly one object"
                  if shape == "any" else
                  "expected a JSON object" if shape == "object" else
                  "expected an array holding one object")


def success_add(snap, state, fields):
    """Create a ticket; the response mirrors the seed's success body."""
    tid, internal = state.create_ticket(fields)
    now = now_str()
    title = fields["title"]
    due = fields.get("due_date") or now
    email = fields.get("email_id") if isinstance(fields.get("email_id"), str) else ""
    details = fields.get("ticket_details")
    if not isinstance(details, str):
        details = ""
    url = "/employee/view-task-detail.html?detail=5/%d/%s" % (internal, tid)
    ticket = {
        "id": internal, "type": "O", "email": email, "phone": "", "status": "P",
        "orderId": "", "queueKey": "", "ticketId": tid, "folderId": 0,
        "detail": details, "isUnread": True, "isOutOfSLA": False, "priority": 0,
        "isCallBack": False, "creatorId": 0, "enquiryId": 0, "contactId": 0,
        "substatus": "US", "productId": 0, "erpOrderId": "", "referenceId": 0,
        "ticketEmail": email, "assignedToId": 0, "pendingTaskId": 0,
        "agencyBriefId": 0, "twitterUserId": "", "facebookUserId": "",
        "associativefile": "", "statusName": "Pending", "customerFeedback": 0,
        "playStoreReviewId": "", "lastConversationId": 0,
        "lastConversationType": "O",
        "lastConversationTime": int(time.time() * 1000), "date": now,
        "totalConversationCount": 0, "taskTitle": title, "typeName": "Mobile App",
        "taskEnddate": due, "lastFollowUp": now, "nextFollowUp": due,
        "substatusName": "Unattended", "encryptedPhone": "", "encryptedEmail": "",
        "lastConversationTypeName": "Mobile App", "ticketURL": url,
        "ticketCreatorURL": url, "isEscalated": True, "folders": [],
        "queueName": fields.get("queue") if isinstance(fields.get("queue"), str) else "",
        "creatorName": "", "folderColor": "red", "assignedToName": "",
        "assignedToPhone": "", "assignedToEmail": "", "mergeTicketId": "",
        "skuCode": "", "productName": "",
    }
    payload = {
        "ticket": ticket, "Additional_details": {}, "due_date": due,
        "title": title, "customer_id": 0, "ticket_id": tid, "Ticket Id": tid,
        "ticket_url": "", "status": "success",
    }
    if snap["capitalize"]:
        payload["Status"] = "Success"
        del payload["status"]
    return Response(200, payload=payload, result="success", ticket_id=tid)


def process_api(kind, snap, state, auth_ok, content_type, body, body_error):
    """The application's answer to a (non-faulted) API request."""
    if not auth_ok:
        return failed(snap, "Invalid Auth Key")
    media = (content_type or "").split(";", 1)[0].strip().lower()
    if media != "application/json":
        return failed(snap, "Content-Type must be application/json", status=415)
    if body_error:
        return failed(snap, body_error, status=400)
    fields, err = unwrap(body, snap["shape"])
    if err:
        return failed(snap, err, status=400)

    if kind == "add":
        title = fields.get("title")
        if title is None or (isinstance(title, str) and not title.strip()):
            return failed(snap, "title is missing")
        if not isinstance(title, str):
            return failed(snap, "title must be a string")
        due = fields.get("due_date")
        if due is not None and due != "":
            if not isinstance(due, str) or not DUE_RE.match(due):
                return failed(snap, "Invalid due_date, expected format yyyy-MM-dd HH:mm:ss")
            try:
                datetime.datetime.strptime(due, "%Y-%m-%d %H:%M:%S")
            except ValueError:
                return failed(snap, "Invalid due_date, expected format yyyy-MM-dd HH:mm:ss")
        return success_add(snap, state, fields)

    # update
    tid = fields.get("ticket_id")
    if isinstance(tid, int) and not isinstance(tid, bool):
        tid = str(tid)
    if tid is None or tid == "":
        return failed(snap, "ticket_id is missing")
    if not isinstance(tid, str) or not tid.isdigit():
        return failed(snap, "Invalid ticket_id")
    sub_status = fields.get("sub_status")
    if not isinstance(sub_status, str) or not sub_status.strip():
        return failed(snap, "sub_status is missing")
    comment = fields.get("comment")
    if comment is not None and not isinstance(comment, str):
        return failed(snap, "comment must be a string")
    if not state.update_ticket(tid, comment, sub_status):
        return failed(snap, "Ticket not found")
    payload = {"message": "Ticket updated successfully", "status": "success",
               "ticket_id": tid}
    if snap["capitalize"]:
        payload = {"Message": payload["message"], "Status": "Success", "ticket_id": tid}
    return Response(200, payload=payload, result="success", ticket_id=tid)


def fault_response(fault, snap):
    if fault == "502html":
        return Response(502, html=html_page(502, "Bad Gateway"), result="http_error",
                        message="502 Bad Gateway")
    if fault == "503":
        return Response(503, html=html_page(503, "Service Temporarily Unavailable"),
                        result="http_error", message="503 Service Unavailable")
    if fault == "429":
        r = failed(snap, "Too Many Requests", status=429)
        r.headers["Retry-After"] = snap["retry_after"]
        return r
    if fault == "failed":
        return failed(snap, "internal error")
    if fault == "auth":
        return failed(snap, "Invalid Auth Key")
    # "500" and any other numeric status
    return failed(snap, "injected fault %s" % fault, status=int(fault))


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"   # keep-alive; every answer has Content-Length
    server_version = "KaptureMock/1.0"
    # Headers and body go out in two writes: with Nagle on, the body waits
    # for the client's delayed ACK (~40 ms a request on a kept-alive
    # connection), which would skew every latency and throughput figure.
    disable_nagle_algorithm = True

    # BaseHTTPRequestHandler looks up do_<METHOD> and answers 501 when it is
    # missing; every method goes through _dispatch instead, so that unknown
    # methods get the same 404 page as unknown paths.
    def __getattr__(self, name):
        if name.startswith("do_"):
            return self._dispatch
        raise AttributeError(name)

    @property
    def app(self):
        return self.server.app

    def log_message(self, fmt, *args):
        if self.app.quiet:
            return
        text, _ = self.app.settings.redact(fmt % args)
        sys.stderr.write("mock_kapture: %s %s\n" % (self.address_string(), text))

    # -- transport -------------------------------------------------------

    def _read_body(self):
        """The request body as bytes; None if the connection is unusable."""
        te = (self.headers.get("Transfer-Encoding") or "").lower()
        if te:
            if te != "chunked":
                return None
            out = bytearray()
            while True:
                line = self.rfile.readline(1024)
                try:
                    size = int(line.split(b";", 1)[0].strip(), 16)
                except ValueError:
                    return None
                if size == 0:
                    # Trailers up to the empty line.
                    while self.rfile.readline(65537) not in (b"\r\n", b"\n", b""):
                        pass
                    return bytes(out)
                if len(out) + size > MAX_BODY:
                    return None
                chunk = self.rfile.read(size)
                if len(chunk) != size:
                    return None
                out += chunk
                self.rfile.readline(3)   # CRLF after the chunk
        length = self.headers.get("Content-Length")
        if length is None:
            return b""
        try:
            n = int(length)
        except ValueError:
            return None
        if n < 0 or n > MAX_BODY:
            return None
        data = self.rfile.read(n)
        return data if len(data) == n else None

    def _send(self, status, body, content_type, headers=None):
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def _send_json(self, status, obj, headers=None):
        self._send(status, json.dumps(obj).encode(), "application/json;charset=UTF-8",
                   headers)

    def _reset(self):
        """Close the connection abruptly: SO_LINGER 0 makes close() send RST."""
        self.close_connection = True
        try:
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                                       struct.pack("ii", 1, 0))
            # rfile holds a reference to the socket; the fd (and so the RST)
            # only goes once both are closed.
            self.rfile.close()
            self.connection.close()
        except OSError:
            pass

    # -- dispatch --------------------------------------------------------

    def _dispatch(self):
        path = urlsplit(self.path).path
        if self.command == "POST" and path == ADD_PATH:
            kind = "add"
        elif self.command == "POST" and path == UPDATE_PATH:
            kind = "update"
        else:
            kind = "other"
        raw = self._read_body()
        if raw is None:
            # Unusable framing (bad Content-Length, broken chunks, too big):
            # answer 400 and drop the connection, since we lost sync.
            self.close_connection = True
            if not path.startswith(CONTROL_PREFIX):
                self._record(kind, b"", None,
                             Response(400, result="http_error",
                                      message="unreadable request body"), None)
            self._send(400, html_page(400, "Bad Request"), "text/html",
                       {"Connection": "close"})
            return
        if path.startswith(CONTROL_PREFIX):
            self._control(path, raw)
            return
        with self.app.state.lock:
            self.app.state.in_flight += 1
        try:
            self._api(kind, raw)
        finally:
            with self.app.state.lock:
                self.app.state.in_flight -= 1

    def _api(self, kind, raw):
        app = self.app
        snap = app.settings.snapshot()
        auth_ok, auth_error = check_auth(self.headers.get_all("Authorization") or [],
                                         snap["token"])
        content_type = self.headers.get("Content-Type")
        body, body_error = parse_json(raw)

        fault = app.settings.take_fault() if kind != "other" else None
        if snap["latency_ms"] and kind != "other":
            app.stopping.wait(snap["latency_ms"] / 1000.0)

        if kind == "other":
            resp = Response(404, html=html_page(404, "Not Found"), result="http_error",
                            message="404 Not Found")
        elif fault in ("hang", "reset"):
            resp = Response(None, result=fault, message="injected fault " + fault)
        elif fault:
            resp = fault_response(fault, snap)
        else:
            resp = process_api(kind, snap, app.state, auth_ok, content_type, body,
                               body_error)

        self._record(kind, raw, body, resp, fault, (auth_ok, auth_error))

        if fault == "hang":
            # Never answer; hold the socket open until the mock shuts down.
            app.stopping.wait()
            self.close_connection = True
            return
        if fault == "reset":
            self._reset()
            return
        if resp.html is not None:
            self._send(resp.status, resp.html, "text/html", resp.headers)
        else:
            self._send_json(resp.status, resp.payload, resp.headers)

    def _record(self, kind, raw, body, resp, fault, auth=None):
        """Append the record line (redacted) before the answer goes out."""
        app = self.app
        if auth is None:
            auth = check_auth(self.headers.get_all("Authorization") or [],
                              app.settings.snapshot()["token"])
        auth_ok, auth_error = auth
        raw_text, leak1 = app.settings.redact(raw.decode("utf-8", "replace"))
        path, leak2 = app.settings.redact(self.path)
        body_rec, leak3 = redact_json(body, app.settings)
        app.state.add_record({
            "method": self.command, "path": path, "kind": kind,
            "auth_ok": auth_ok, "auth_error": auth_error,
            "content_type": self.headers.get("Content-Type"), "body": body_rec,
            "raw": raw_text, "status": resp.status, "result": resp.result,
            "message": resp.message, "ticket_id": resp.ticket_id, "fault": fault,
            "token_in_request": leak1 or leak2 or leak3,
            "time": time.time(),
        })

    def _control(self, path, raw):
        app = self.app
        if self.command == "GET" and path == "/_mock/requests":
            self._send_json(200, app.state.get_records())
        elif self.command == "GET" and path == "/_mock/stats":
            self._send_json(200, app.state.get_stats())
        elif self.command == "GET" and path == "/_mock/config":
            self._send_json(200, app.settings.public())
        elif self.command == "POST" and path == "/_mock/config":
            changes, err = parse_json(raw)
            if err is None:
                try:
                    app.settings.update(changes)
                except ValueError as e:
                    err = str(e)
            if err:
                self._send_json(400, {"status": "failed", "message": err})
            else:
                self._send_json(200, {"status": "ok", "config": app.settings.public()})
        else:
            self._send(404, html_page(404, "Not Found"), "text/html")


def redact_json(value, settings):
    """Redact tokens in every string (keys too) of a parsed JSON value."""
    found = False

    def walk(v):
        nonlocal found
        if isinstance(v, str):
            v2, f = settings.redact(v)
            found = found or f
            return v2
        if isinstance(v, list):
            return [walk(x) for x in v]
        if isinstance(v, dict):
            return {walk(k): walk(x) for k, x in v.items()}
        return v

    return walk(value), found


class MockServer(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 128   # many concurrent connects without SYN drops


class App:
    def __init__(self, settings, state, quiet):
        self.settings = settings
        self.state = state
        self.quiet = quiet
        self.stopping = threading.Event()


def write_atomic(path, text):
    tmp = "%s.tmp.%d" % (path, os.getpid())
    with open(tmp, "w") as f:
        f.write(text)
        f.flush()
        os.fsync(f.fileno())
    os.rename(tmp, path)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    p.add_argument("--port-file", required=True)
    p.add_argument("--record", required=True)
    p.add_argument("--token", help="default: $KAPTURE_TOKEN or %r" % DEFAULT_TOKEN)
    p.add_argument("--port", type=int, default=0)
    p.add_argument("--shape", choices=SHAPES, default="any")
    p.add_argument("--latency-ms", "--latency_ms", type=int, default=0)
    p.add_argument("--fail-next", "--fail_next", type=int, default=0)
    p.add_argument("--fault", default="500")
    p.add_argument("--retry-after", "--retry_after", default="2")
    p.add_argument("--capitalize", action="store_true")
    p.add_argument("--first-ticket-id", type=int, default=FIRST_TICKET_ID)
    p.add_argument("--quiet", action="store_true", help="no per-request log on stderr")
    args = p.parse_args(argv)

    token = args.token or os.environ.get("KAPTURE_TOKEN") or DEFAULT_TOKEN
    settings = Settings(token)
    try:
        settings.update({"shape": args.shape, "latency_ms": args.latency_ms,
                         "fail_next": args.fail_next, "fault": args.fault,
                         "retry_after": args.retry_after,
                         "capitalize": args.capitalize})
    except ValueError as e:
        p.error(str(e))
    state = State(args.record, args.first_ticket_id)
    app = App(settings, state, args.quiet)

    stop = threading.Event()

    def on_signal(signum, frame):
        stop.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)

    server = MockServer(("127.0.0.1", args.port), Handler)   # binds and listens
    server.app = app
    port = server.server_address[1]
    write_atomic(args.port_file, "%d\n" % port)
    if not args.quiet:
        sys.stderr.write("mock_kapture: listening on 127.0.0.1:%d\n" % port)
        sys.stderr.flush()

    # serve_forever runs in a thread: shutdown() must not be called from the
    # thread running serve_forever (it would wait for itself).
    t = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1},
                         daemon=True)
    t.start()
    while not stop.wait(0.5):
        pass
    app.stopping.set()       # wake hanging and sleeping handlers
    server.shutdown()
    server.server_close()
    with state.lock:
        state.record.close()
    if not args.quiet:
        sys.stderr.write("mock_kapture: stopped after %d requests\n" % state.seq)
    return 0


if __name__ == "__main__":
    sys.exit(main())
