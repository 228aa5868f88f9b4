#!/usr/bin/env python3
"""Self-test of tests/mock_kapture.py: python3 tests/test_mock.py [-v]"""

import base64
import http.client
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import threading
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import mocklib  # noqa: E402
from mocklib import ADD_PATH, UPDATE_PATH, MockKapture  # noqa: E402

TOKEN = "tok-9f8e7d6c5b4a-secret"
GOOD = {"title": "Disk full", "ticket_details": "sda1 at 100%",
        "due_date": "2025-11-27 14:00:00", "email_id": "ops@example.com"}


class MockCase(unittest.TestCase):
    """One mock for the whole class; every test resets the fault settings."""

    mock_kw = {}

    @classmethod
    def setUpClass(cls):
        cls._tmp_cm = mocklib.tmpdir("omk-mocktest-")
        cls.tmp = cls._tmp_cm.__enter__()
        cls.mock = MockKapture(cls.tmp, token=TOKEN, **cls.mock_kw).start()

    @classmethod
    def tearDownClass(cls):
        cls.rc = cls.mock.stop()
        cls._tmp_cm.__exit__(None, None, None)

    def setUp(self):
        self.mock.configure(latency_ms=0, fail_next=0, fault="500", retry_after="2",
                            shape="any", capitalize=False, token=TOKEN)

    # -- helpers ---------------------------------------------------------

    def conn(self, timeout=10):
        return http.client.HTTPConnection("127.0.0.1", self.mock.port, timeout=timeout)

    def post(self, body, path=ADD_PATH, token=TOKEN, ctype="application/json",
             conn=None, headers=None, method="POST"):
        """Send one request; returns (status, headers, parsed JSON or text)."""
        own = conn is None
        c = conn or self.conn()
        h = {}
        if token is not None:
            h["Authorization"] = "Basic " + token
        if ctype is not None:
            h["Content-Type"] = ctype
        h.update(headers or {})
        if body is not None and not isinstance(body, (bytes, str)):
            body = json.dumps(body)
        try:
            c.request(method, path, body=body, headers=h)
            r = c.getresponse()
            data = r.read()
            self.assertEqual(r.getheader("Content-Length"), str(len(data)))
            ct = r.getheader("Content-Type") or ""
            if "json" in ct:
                return r.status, r, json.loads(data)
            return r.status, r, data.decode()
        finally:
            if own:
                c.close()

    def last_record(self):
        return self.mock.requests()[-1]


class TestAddTicket(MockCase):

    def test_success_shape_array(self):
        status, r, js = self.post([GOOD])
        self.assertEqual(status, 200)
        self.assertEqual(js["status"], "success")
        tid = js["ticket_id"]
        self.assertRegex(tid, r"^\d+$")
        self.assertGreaterEqual(int(tid), 713516551148)
        self.assertEqual(js["Ticket Id"], tid)
        self.assertEqual(js["title"], GOOD["title"])
        self.assertEqual(js["due_date"], GOOD["due_date"])
        for key in ("ticket_url", "Additional_details", "customer_id"):
            self.assertIn(key, js)
        t = js["ticket"]
        self.assertIsInstance(t["id"], int)
        self.assertEqual(t["ticketId"], tid)
        self.assertEqual(t["status"], "P")
        self.assertEqual(t["taskTitle"], GOOD["title"])
        rec = self.last_record()
        self.assertEqual(rec["kind"], "add")
        self.assertEqual(rec["result"], "success")
        self.assertEqual(rec["status"], 200)
        self.assertTrue(rec["auth_ok"])
        self.assertEqual(rec["body"], [GOOD])
        self.assertEqual(rec["ticket_id"], tid)
        self.assertEqual(json.loads(rec["raw"]), [GOOD])

    def test_ticket_ids_increment(self):
        ids = [int(self.post([{"title": "t%d" % i}])[2]["ticket_id"]) for i in range(3)]
        self.assertEqual(ids, [ids[0], ids[0] + 1, ids[0] + 2])

    def test_first_ticket_id_is_seed_id(self):
        self.post([GOOD])
        first = self.mock.successes("add")[0]
        self.assertEqual(first["ticket_id"], "713516551148")

    def test_object_body_accepted_in_any(self):
        status, _, js = self.post(GOOD)
        self.assertEqual((status, js["status"]), (200, "success"))

    def test_nested_custom_fields(self):
        body = [dict(GOOD, queue="Infra",
                     issue_category_details=[{"issue_category_1": "Disk"}],
                     extra={"a": {"b": ["c"]}})]
        status, _, js = self.post(body)
        self.assertEqual(js["status"], "success")
        self.assertEqual(self.last_record()["body"], body)

    def test_charset_parameter_ok(self):
        _, _, js = self.post([GOOD], ctype="application/json; charset=utf-8")
        self.assertEqual(js["status"], "success")

    def test_unicode(self):
        body = [{"title": "Disque plein \u00e9\u2603", "ticket_details": "\u4e2d\u6587"}]
        _, _, js = self.post(json.dumps(body, ensure_ascii=False).encode())
        self.assertEqual(js["title"], body[0]["title"])
        self.assertEqual(self.last_record()["body"], body)

    def test_empty_due_date_ok(self):
        _, _, js = self.post([dict(GOOD, due_date="")])
        self.assertEqual(js["status"], "success")


class TestRejections(MockCase):

    def assertFailed(self, status, js, message, http_status=200):
        self.assertEqual(status, http_status)
        self.assertEqual(js["status"], "failed")
        if message is not None:
            self.assertEqual(js["message"], message)
        rec = self.last_record()
        self.assertEqual(rec["result"], "failed")
        self.assertEqual(rec["status"], http_status)

    def test_invalid_auth(self):
        for token in (None, "wrong", base64.b64encode(TOKEN.encode()).decode(),
                      TOKEN + " ", ""):
            with self.subTest(token=token):
                status, _, js = self.post([GOOD], token=token)
                self.assertFailed(status, js, "Invalid Auth Key")
                self.assertEqual(js, {"message": "Invalid Auth Key", "status": "failed"})
                self.assertFalse(self.last_record()["auth_ok"])
        # Exactly "Basic <token>": other schemes and spellings fail.
        for value in ("Bearer " + TOKEN, "basic " + TOKEN, TOKEN):
            with self.subTest(header=value.split()[0]):
                status, _, js = self.post([GOOD], token=None,
                                          headers={"Authorization": value})
                self.assertFailed(status, js, "Invalid Auth Key")

    def test_base64_again_is_diagnosed(self):
        self.post([GOOD], token=base64.b64encode(TOKEN.encode()).decode())
        self.assertIn("base64", self.last_record()["auth_error"])

    def test_title_missing(self):
        for body in ([{}], [{"title": ""}], [{"title": "   "}],
                     [{"ticket_details": "x"}], {"title": None}):
            with self.subTest(body=body):
                status, _, js = self.post(body)
                self.assertFailed(status, js, "title is missing")
                self.assertEqual(js, {"message": "title is missing", "status": "failed"})

    def test_bad_due_date(self):
        for due in ("2025-11-27", "2025-11-27T14:00:00", "27-11-2025 14:00:00",
                    "2025-11-27 14:00", "2025-13-01 00:00:00", "2025-11-27 14:00:00Z",
                    "+4h"):
            with self.subTest(due=due):
                status, _, js = self.post([dict(GOOD, due_date=due)])
                self.assertFailed(status, js, None)
                self.assertIn("due_date", js["message"])

    def test_content_type(self):
        for ctype in (None, "text/plain", "application/x-www-form-urlencoded"):
            with self.subTest(ctype=ctype):
                status, _, js = self.post([GOOD], ctype=ctype)
                self.assertFailed(status, js, None, http_status=415)

    def test_invalid_json(self):
        for raw in (b"", b"{", b"[{\"title\":\"x\"}", b"\xff\xfe", b"[NaN]",
                    b"title=x"):
            with self.subTest(raw=raw):
                status, _, js = self.post(raw)
                self.assertFailed(status, js, None, http_status=400)
                self.assertIsNone(self.last_record()["body"])

    def test_shape_any(self):
        for body in ([], [GOOD, GOOD], ["x"], "x", 5, [[GOOD]]):
            with self.subTest(body=body):
                status, _, js = self.post(body)
                self.assertFailed(status, js, None, http_status=400)

    def test_shape_array(self):
        self.mock.configure(shape="array")
        status, _, js = self.post(GOOD)
        self.assertFailed(status, js, None, http_status=400)
        self.assertEqual(self.post([GOOD])[2]["status"], "success")

    def test_shape_object(self):
        self.mock.configure(shape="object")
        status, _, js = self.post([GOOD])
        self.assertFailed(status, js, None, http_status=400)
        self.assertEqual(self.post(GOOD)[2]["status"], "success")

    def test_auth_checked_before_body(self):
        status, _, js = self.post(b"not json", token="wrong")
        self.assertFailed(status, js, "Invalid Auth Key")

    def test_not_found(self):
        for method, path in (("POST", "/"), ("GET", ADD_PATH), ("PUT", ADD_PATH),
                             ("POST", ADD_PATH + "x"), ("DELETE", "/x"),
                             ("PROPFIND", ADD_PATH)):
            with self.subTest(method=method, path=path):
                status, r, text = self.post([GOOD], path=path, method=method)
                self.assertEqual(status, 404)
                self.assertTrue(r.getheader("Content-Type").startswith("text/html"))
                self.assertIn("<html>", text)
                rec = self.last_record()
                self.assertEqual((rec["kind"], rec["status"], rec["path"]),
                                 ("other", 404, path))

    def test_capitalized_keys(self):
        self.mock.configure(capitalize=True)
        _, _, js = self.post([{}])
        self.assertEqual(js, {"Message": "title is missing", "Status": "failed"})
        _, _, js = self.post([GOOD])
        self.assertEqual(js["Status"], "Success")
        self.assertNotIn("status", js)


class TestUpdate(MockCase):

    def test_update_flow(self):
        tid = self.post([GOOD])[2]["ticket_id"]
        status, _, js = self.post([{"ticket_id": tid, "comment": "repeated 5 times",
                                    "sub_status": "P"}], path=UPDATE_PATH)
        self.assertEqual((status, js["status"], js["ticket_id"]), (200, "success", tid))
        rec = self.last_record()
        self.assertEqual((rec["kind"], rec["result"], rec["ticket_id"]),
                         ("update", "success", tid))

    def test_update_errors(self):
        tid = self.post([GOOD])[2]["ticket_id"]
        cases = [
            ({"comment": "x", "sub_status": "P"}, "ticket_id is missing"),
            ({"ticket_id": tid, "comment": "x"}, "sub_status is missing"),
            ({"ticket_id": tid, "sub_status": ""}, "sub_status is missing"),
            ({"ticket_id": "999", "sub_status": "P"}, "Ticket not found"),
        ]
        for body, msg in cases:
            with self.subTest(body=body):
                status, _, js = self.post([body], path=UPDATE_PATH)
                self.assertEqual((status, js), (200, {"message": msg, "status": "failed"}))
        _, _, js = self.post([{"ticket_id": tid}], path=UPDATE_PATH, token="bad")
        self.assertEqual(js["message"], "Invalid Auth Key")


class TestFaults(MockCase):

    def test_500(self):
        self.mock.configure(fail_next=1, fault="500")
        status, _, js = self.post([GOOD])
        self.assertEqual(status, 500)
        self.assertEqual(js["status"], "failed")
        rec = self.last_record()
        self.assertEqual((rec["status"], rec["fault"], rec["result"]), (500, "500", "failed"))
        # fail_next=1: the next one goes through.
        self.assertEqual(self.post([GOOD])[2]["status"], "success")

    def test_502html(self):
        self.mock.configure(fail_next=1, fault="502html")
        status, r, text = self.post([GOOD])
        self.assertEqual(status, 502)
        self.assertEqual(r.getheader("Content-Type"), "text/html")
        self.assertIn("502 Bad Gateway", text)
        self.assertEqual(self.last_record()["result"], "http_error")

    def test_503(self):
        self.mock.configure(fail_next=1, fault="503")
        status, _, _ = self.post([GOOD])
        self.assertEqual(status, 503)

    def test_429_retry_after(self):
        self.mock.configure(fail_next=2, fault="429")
        status, r, js = self.post([GOOD])
        self.assertEqual((status, r.getheader("Retry-After")), (429, "2"))
        self.mock.configure(retry_after=7)
        status, r, js = self.post([GOOD])
        self.assertEqual((status, r.getheader("Retry-After")), (429, "7"))
        status, r, js = self.post([GOOD])
        self.assertEqual((status, r.getheader("Retry-After")), (200, None))

    def test_failed_and_auth(self):
        self.mock.configure(fail_next=2, fault="failed")
        self.assertEqual(self.post([GOOD])[2],
                         {"message": "internal error", "status": "failed"})
        self.assertEqual(self.post([GOOD])[2]["message"], "internal error")
        self.mock.configure(fail_next=1, fault="auth")
        status, _, js = self.post([GOOD])
        self.assertEqual((status, js), (200, {"message": "Invalid Auth Key",
                                              "status": "failed"}))
        self.assertTrue(self.last_record()["auth_ok"])   # the header was right
        self.assertEqual(self.last_record()["fault"], "auth")

    def test_numeric_status(self):
        self.mock.configure(fail_next=1, fault="408")
        self.assertEqual(self.post([GOOD])[0], 408)

    def test_fail_forever_then_clear(self):
        self.mock.configure(fail_next=-1, fault="503")
        for _ in range(3):
            self.assertEqual(self.post([GOOD])[0], 503)
        self.mock.configure(fail_next=0)
        self.assertEqual(self.post([GOOD])[0], 200)

    def test_faults_apply_to_update_too(self):
        self.mock.configure(fail_next=1, fault="503")
        self.assertEqual(self.post([{"ticket_id": "1", "sub_status": "P"}],
                                   path=UPDATE_PATH)[0], 503)

    def test_hang(self):
        self.mock.configure(fail_next=1, fault="hang")
        c = self.conn(timeout=1.0)
        with self.assertRaises(socket.timeout):
            self.post([GOOD], conn=c)
        c.close()
        rec = self.last_record()
        self.assertEqual((rec["status"], rec["result"]), (None, "hang"))
        self.assertEqual(self.post([GOOD])[0], 200)

    def test_reset(self):
        self.mock.configure(fail_next=1, fault="reset")
        with self.assertRaises((ConnectionResetError, http.client.RemoteDisconnected,
                                BrokenPipeError)):
            self.post([GOOD])
        rec = self.last_record()
        self.assertEqual((rec["status"], rec["result"]), (None, "reset"))
        self.assertEqual(self.post([GOOD])[0], 200)

    def test_latency(self):
        self.mock.configure(latency_ms=400)
        t0 = time.monotonic()
        self.assertEqual(self.post([GOOD])[0], 200)
        self.assertGreaterEqual(time.monotonic() - t0, 0.4)

    def test_invalid_config(self):
        for bad in ({"fault": "nope"}, {"latency_ms": "x"}, {"unknown": 1},
                    {"shape": "list"}, {"fail_next": -2}):
            with self.subTest(bad=bad):
                with self.assertRaises(Exception) as cm:
                    self.mock.configure(**bad)
                self.assertEqual(getattr(cm.exception, "code", None), 400)

    def test_config_never_shows_token(self):
        cfg = self.mock.configure(latency_ms=0)
        self.assertNotIn("token", cfg)


class TestTransport(MockCase):

    def test_keep_alive(self):
        c = self.conn()
        self.assertEqual(self.post([GOOD], conn=c)[0], 200)
        sock = c.sock
        self.assertIsNotNone(sock)
        # A rejected request must not break the connection either.
        self.assertEqual(self.post([{}], conn=c)[2]["message"], "title is missing")
        self.assertEqual(self.post(b"{", conn=c)[0], 400)
        self.assertEqual(self.post([GOOD], conn=c)[0], 200)
        self.assertIs(c.sock, sock, "the client had to reconnect")
        c.close()

    def test_expect_100_continue(self):
        # libcurl sends "Expect: 100-continue" for bodies over 1 KiB.
        body = json.dumps([dict(GOOD, ticket_details="x" * 5000)]).encode()
        s = socket.create_connection(("127.0.0.1", self.mock.port), timeout=10)
        s.sendall(("POST %s HTTP/1.1\r\nHost: x\r\nAuthorization: Basic %s\r\n"
                   "Content-Type: application/json\r\nContent-Length: %d\r\n"
                   "Expect: 100-continue\r\n\r\n" % (ADD_PATH, TOKEN, len(body))).encode())
        self.assertTrue(s.recv(100).startswith(b"HTTP/1.1 100"))
        s.sendall(body)
        resp = http.client.HTTPResponse(s)
        resp.begin()
        self.assertEqual(json.loads(resp.read())["status"], "success")
        s.close()

    def test_chunked(self):
        c = self.conn()
        c.request("POST", ADD_PATH, body=iter([b'[{"title":', b'"chunked"}]']),
                  headers={"Authorization": "Basic " + TOKEN,
                           "Content-Type": "application/json"},
                  encode_chunked=True)
        r = c.getresponse()
        self.assertEqual(json.loads(r.read())["title"], "chunked")
        c.close()

    @unittest.skipUnless(shutil.which("curl"), "curl not installed")
    def test_curl_reuses_connection(self):
        body = json.dumps([dict(GOOD, ticket_details="y" * 3000)])
        out = subprocess.run(
            ["curl", "-sS", "-v", "--noproxy", "*", "--max-time", "20",
             "-H", "Authorization: Basic " + TOKEN,
             "-H", "Content-Type: application/json", "--data-binary", body,
             self.mock.url, "--next", "--noproxy", "*",
             "-H", "Authorization: Basic " + TOKEN,
             "-H", "Content-Type: application/json", "--data-binary", body,
             self.mock.url],
            capture_output=True, text=True, timeout=30)
        self.assertEqual(out.returncode, 0, out.stderr)
        self.assertEqual(out.stdout.count('"status": "success"'), 2, out.stdout)
        self.assertRegex(out.stderr, r"Re-using existing connection|Reusing existing")

    def test_concurrent(self):
        before = len(self.mock.requests())
        n_threads, per_thread = 16, 10
        errors, ids = [], []
        lock = threading.Lock()

        def worker(i):
            try:
                c = self.conn()
                for j in range(per_thread):
                    status, _, js = self.post([{"title": "c%d-%d" % (i, j)}], conn=c)
                    with lock:
                        ids.append(js["ticket_id"])
                c.close()
            except Exception as e:   # reported below
                with lock:
                    errors.append(repr(e))

        self.mock.configure(latency_ms=20)
        threads = [threading.Thread(target=worker, args=(i,)) for i in range(n_threads)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
        self.assertEqual(errors, [])
        total = n_threads * per_thread
        self.assertEqual(len(set(ids)), total)
        recs = self.mock.requests()[before:]
        self.assertEqual(len(recs), total)
        ns = [r["n"] for r in self.mock.requests()]
        self.assertEqual(ns, list(range(1, len(ns) + 1)), "record out of order")
        self.assertEqual(self.mock.requests_http(), self.mock.requests())

    def test_stats(self):
        before = self.mock.stats()
        self.post([GOOD])
        self.post([{}])
        after = self.mock.stats()
        self.assertEqual(after["requests"] - before["requests"], 2)
        add = after["by_kind"]["add"]
        self.assertGreaterEqual(add["success"], 1)
        self.assertGreaterEqual(add["failed"], 1)


class TestSecrets(MockCase):

    def test_token_never_recorded_or_logged(self):
        self.post([GOOD])
        self.post([GOOD], token="wrong")
        # A client leaking the token into the body or path gets it redacted.
        self.post([dict(GOOD, ticket_details="key is " + TOKEN)])
        rec = self.last_record()
        self.assertTrue(rec["token_in_request"])
        self.assertNotIn(TOKEN, json.dumps(rec))
        self.assertIn("<REDACTED>", rec["body"][0]["ticket_details"])
        self.post([GOOD], path=ADD_PATH + "?t=" + TOKEN)
        # Rotate the token at runtime: the old and the new never show up.
        self.mock.configure(token="new-" + TOKEN)
        self.post([GOOD], token="new-" + TOKEN)
        self.assertEqual(self.last_record()["result"], "success")
        self.post(["x"], token="new-" + TOKEN)
        with open(self.mock.record_path, "rb") as f:
            data = f.read()
        self.assertNotIn(TOKEN.encode(), data)
        self.assertNotIn(b"Authorization", data)
        self.assertNotIn(TOKEN, json.dumps(self.mock.requests_http()))
        self.assertNotIn(TOKEN, self.mock.log())


class TestLifecycle(unittest.TestCase):

    def test_sigterm_exits_0_even_with_hanging_request(self):
        with mocklib.tmpdir("omk-mocktest-") as d:
            m = MockKapture(d, token=TOKEN, fault="hang", fail_next=1).start()
            with open(m.port_file) as f:
                self.assertTrue(re.fullmatch(r"\d+\n", f.read()))
            c = http.client.HTTPConnection("127.0.0.1", m.port, timeout=30)
            c.request("POST", ADD_PATH, body="[{}]",
                      headers={"Content-Type": "application/json"})
            self.assertTrue(mocklib.wait_for(lambda: m.requests(), 5))
            t0 = time.monotonic()
            self.assertEqual(m.stop(), 0)
            self.assertLess(time.monotonic() - t0, 5)
            # The hanging client sees the connection end, not an answer.
            with self.assertRaises((http.client.RemoteDisconnected, ConnectionError)):
                c.getresponse()
            c.close()
            self.assertEqual(self.read_record(m)[0]["result"], "hang")

    def test_cli_options_and_shape(self):
        with mocklib.tmpdir("omk-mocktest-") as d:
            with MockKapture(d, token=TOKEN, shape="object", latency_ms=0,
                             fail_next=1, fault="502html", retry_after=9,
                             capitalize=True) as m:
                cfg = m._control("GET", "/_mock/config")
                self.assertEqual(cfg, {"latency_ms": 0, "fail_next": 1,
                                       "fault": "502html", "retry_after": "9",
                                       "shape": "object", "capitalize": True})

    def test_default_token_from_env(self):
        with mocklib.tmpdir("omk-mocktest-") as d:
            port_file, record = os.path.join(d, "p"), os.path.join(d, "r")
            env = {k: v for k, v in os.environ.items() if k != "KAPTURE_TOKEN"}
            p = subprocess.Popen([sys.executable, mocklib.MOCK_SCRIPT, "--port-file",
                                  port_file, "--record", record, "--quiet"], env=env)
            def read_port():
                try:
                    with open(port_file) as f:
                        return f.read().strip()
                except FileNotFoundError:
                    return None

            try:
                port = mocklib.wait_for(read_port, 10)
                c = http.client.HTTPConnection("127.0.0.1", int(port), timeout=10)
                c.request("POST", ADD_PATH, body='[{"title":"x"}]',
                          headers={"Content-Type": "application/json",
                                   "Authorization": "Basic test-token"})
                self.assertEqual(json.loads(c.getresponse().read())["status"], "success")
                c.close()
            finally:
                p.terminate()
                self.assertEqual(p.wait(10), 0)

    @staticmethod
    def read_record(m):
        with open(m.record_path) as f:
            return [json.loads(line) for line in f]


if __name__ == "__main__":
    unittest.main()
