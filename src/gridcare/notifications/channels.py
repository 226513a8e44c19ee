"""Outbound channels: how a message leaves GridCare.

A backend sends a batch of `OutMessage`s and answers, per message, whether it was accepted. Every message
carries an idempotency key (`<event key>/<customer id>`) that stays the same across retries and worker
crashes; the HTTP gateway contract is that a key it has already accepted is acknowledged again without
being sent again (the SMS platforms utilities use accept a client message id for this).

Backends:
* `http`    POST JSON to a configurable URL (the utility's SMS/WeChat platform):
            {"messages": [{"idempotency_key", "channel", "to", "subject", "body"}, ...]}, header
            `Idempotency-Key` when the batch holds one message. 2xx = accepted; the answer may list
            {"results": [{"idempotency_key", "status": "accepted"|"duplicate"|"rejected", "id"}]}.
* `email`   Django's e-mail (EMAIL_BACKEND), Message-ID derived from the idempotency key.
* `file`    one JSON line per message appended to a file; keys already in the file are skipped, so it
            is idempotent like the gateway (the demo's channel).
* `console` the same lines on the log (no dedupe: development only).

Routing (`backend_for(channel)`): GRIDCARE_NOTIFY_ROUTES ("sms=http,wechat=http,email=email") when set;
otherwise sms and wechat go to `http` when GRIDCARE_NOTIFY_GATEWAY_URL is set, else to `file` when
GRIDCARE_NOTIFY_FILE is set, else `console`; email goes to `email`. Each setting is read from Django
settings first, then the environment.
"""
from __future__ import annotations

import json
import logging
import os
import threading
import urllib.error
import urllib.request
from dataclasses import dataclass
from http.client import HTTPConnection, HTTPSConnection
from urllib.parse import urlsplit

log = logging.getLogger("gridcare.notifications")

CHANNELS = {"sms": "短信", "wechat": "微信", "email": "电子邮件", "none": "无可用联系方式"}


class ChannelError(Exception):
    """The backend could not take the batch (network, 5xx): retried later."""


@dataclass(frozen=True)
class OutMessage:
    idempotency_key: str
    channel: str
    to: str
    subject: str
    body: str

    def as_json(self):
        return {"idempotency_key": self.idempotency_key, "channel": self.channel, "to": self.to,
                "subject": self.subject, "body": self.body}


def setting(name: str, default=None):
    from django.conf import settings

    value = getattr(settings, name, None)
    if value is None:
        value = os.environ.get(name)
    return default if value in (None, "") else value


class HttpGateway:
    name = "http"

    def __init__(self, url: str, batch: int = 100, timeout: float = 10.0, token: str | None = None):
        self.url, self.batch, self.timeout, self.token = url, max(1, int(batch)), timeout, token
        parts = urlsplit(url)
        self._parts = parts
        self._local = threading.local()

    def _conn(self):
        conn = getattr(self._local, "conn", None)
        if conn is None:
            cls = HTTPSConnection if self._parts.scheme == "https" else HTTPConnection
            conn = cls(self._parts.hostname, self._parts.port, timeout=self.timeout)
            self._local.conn = conn
        return conn

    def _post(self, payload: dict, key: str | None) -> dict:
        body = json.dumps(payload, ensure_ascii=False).encode()
        headers = {"Content-Type": "application/json; charset=utf-8"}
        if key:
            headers["Idempotency-Key"] = key
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        path = self._parts.path or "/"
        if self._parts.query:
            path += "?" + self._parts.query
        for attempt in (1, 2):  # a kept-alive connection the server closed is reopened once
            conn = self._conn()
            try:
                conn.request("POST", path, body=body, headers=headers)
                resp = conn.getresponse()
                data = resp.read()
                break
            except (OSError, ConnectionError) as exc:
                conn.close()
                self._local.conn = None
                if attempt == 2:
                    raise ChannelError(f"短信网关不可达：{exc}") from exc
        if resp.status >= 500 or resp.status == 429:
            raise ChannelError(f"短信网关返回 {resp.status}")
        if resp.status >= 400:
            return {"rejected_all": f"短信网关拒绝：HTTP {resp.status} {data[:200]!r}"}
        try:
            return json.loads(data or b"{}")
        except ValueError:
            return {}

    def send(self, messages: list[OutMessage]) -> dict[str, tuple[bool, str]]:
        out = {}
        for i in range(0, len(messages), self.batch):
            chunk = messages[i:i + self.batch]
            answer = self._post({"messages": [m.as_json() for m in chunk]},
                                chunk[0].idempotency_key if len(chunk) == 1 else None)
            if "rejected_all" in answer:
                out.update({m.idempotency_key: (False, answer["rejected_all"]) for m in chunk})
                continue
            results = {r.get("idempotency_key"): r for r in answer.get("results", []) if isinstance(r, dict)}
            for m in chunk:
                r = results.get(m.idempotency_key, {})
                if r.get("status") == "rejected":
                    out[m.idempotency_key] = (False, str(r.get("error") or "网关拒绝")[:300])
                else:
                    out[m.idempotency_key] = (True, str(r.get("id") or "")[:80])
        return out


class EmailChannel:
    name = "email"

    def send(self, messages: list[OutMessage]) -> dict[str, tuple[bool, str]]:
        from django.core.mail import EmailMessage, get_connection

        out = {}
        sender = setting("GRIDCARE_NOTIFY_FROM", "noreply@gridcare.local")
        try:
            with get_connection() as conn:
                for m in messages:
                    msg_id = f"<{m.idempotency_key.replace('/', '.')}@gridcare>"
                    EmailMessage(m.subject or "供电服务通知", m.body, sender, [m.to],
                                 headers={"Message-ID": msg_id}, connection=conn).send()
                    out[m.idempotency_key] = (True, msg_id)
        except OSError as exc:
            raise ChannelError(f"邮件服务器不可达：{exc}") from exc
        return out


class FileChannel:
    name = "file"
    _lock = threading.Lock()

    def __init__(self, path: str):
        self.path = path

    def _seen(self) -> set[str]:
        seen = set()
        if os.path.exists(self.path):
            with open(self.path, encoding="utf-8") as fh:
                for line in fh:
                    try:
                        seen.add(json.loads(line)["idempotency_key"])
                    except (ValueError, KeyError):
                        continue
        return seen

    def send(self, messages: list[OutMessage]) -> dict[str, tuple[bool, str]]:
        import fcntl

        out = {}
        os.makedirs(os.path.dirname(os.path.abspath(self.path)), exist_ok=True)
        with self._lock, open(self.path, "a+", encoding="utf-8") as fh:
            fcntl.flock(fh, fcntl.LOCK_EX)  # workers in several processes share the file
            seen = self._seen()
            for m in messages:
                if m.idempotency_key not in seen:
                    fh.write(json.dumps(m.as_json(), ensure_ascii=False) + "\n")
                    seen.add(m.idempotency_key)
                out[m.idempotency_key] = (True, "file")
            fh.flush()
        return out


class ConsoleChannel:
    name = "console"

    def send(self, messages: list[OutMessage]) -> dict[str, tuple[bool, str]]:
        for m in messages:
            log.info("[%s → %s] %s", m.channel, m.to, m.body)
        return {m.idempotency_key: (True, "console") for m in messages}


def routes() -> dict[str, str]:
    configured = setting("GRIDCARE_NOTIFY_ROUTES")
    if configured:
        return dict(part.split("=", 1) for part in str(configured).split(",") if "=" in part)
    default = "http" if setting("GRIDCARE_NOTIFY_GATEWAY_URL") else ("file" if setting("GRIDCARE_NOTIFY_FILE")
                                                                     else "console")
    return {"sms": default, "wechat": default, "email": "email"}


def backend_for(channel: str):
    name = routes().get(channel, "console")
    if name == "http":
        url = setting("GRIDCARE_NOTIFY_GATEWAY_URL")
        if not url:
            raise ChannelError("未配置短信网关地址（GRIDCARE_NOTIFY_GATEWAY_URL）")
        return _cached_gateway(url, int(setting("GRIDCARE_NOTIFY_GATEWAY_BATCH", 100)),
                               setting("GRIDCARE_NOTIFY_GATEWAY_TOKEN"))
    if name == "email":
        return EmailChannel()
    if name == "file":
        return FileChannel(setting("GRIDCARE_NOTIFY_FILE", "var/notices.jsonl"))
    return ConsoleChannel()


_GATEWAYS: dict = {}


def _cached_gateway(url, batch, token):
    key = (url, batch, token, os.getpid())
    if key not in _GATEWAYS:
        _GATEWAYS[key] = HttpGateway(url, batch=batch, token=token)
    return _GATEWAYS[key]


def send_sms(phone: str, text: str, idempotency_key: str | None = None, subject: str = "") -> str:
    """Send one SMS through the configured route (gateway, file or console). Other capabilities (the
    business hall's documents list, ticket links) call this; the key makes a retried send harmless at
    the gateway. Raises ChannelError when the backend refuses it."""
    import uuid

    key = idempotency_key or f"sms-{uuid.uuid4().hex}"
    result = backend_for("sms").send([OutMessage(key, "sms", phone, subject, text)])
    ok, ref = result.get(key, (False, "no result"))
    if not ok:
        raise ChannelError(f"短信发送失败：{ref}")
    return ref
