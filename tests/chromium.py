"""Headless Chromium driven over the DevTools protocol on a pipe: a page opened at an exact
viewport (a phone's 390 px, which ``--window-size`` cannot give: headless windows are at least
500 px wide), a script evaluated in it, a full-page screenshot. Nothing but Debian's Chromium and
the standard library; nothing is fetched.

The protocol's messages are JSON, each ended by a NUL byte, written to the browser's file
descriptor 3 and read from its descriptor 4 (``--remote-debugging-pipe``).
"""

from __future__ import annotations

import base64
import contextlib
import json
import os
import subprocess
import tempfile
from pathlib import Path
from typing import Any

CHROMIUM = Path("/usr/bin/chromium")
TIMEOUT = 180


class BrowserError(RuntimeError):
    pass


def _as_fds_3_and_4(to_browser: int, from_browser: int) -> None:
    """In the child: the pipe ends as descriptors 3 and 4 (copied first, so that neither
    overwrites the other when one of them already is 3 or 4)."""
    reads, writes = os.dup(to_browser), os.dup(from_browser)
    os.dup2(reads, 3)
    os.dup2(writes, 4)


class Browser:
    """One headless Chromium with one tab; ``with Browser() as b: b.open(page, 390)``."""

    def __init__(self) -> None:
        self._profile = tempfile.TemporaryDirectory(prefix="chromium-profile-")
        to_browser, self._send_fd = os.pipe()
        self._read_fd, from_browser = os.pipe()
        self._process = subprocess.Popen(
            [
                str(CHROMIUM),
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run",
                "--disable-quic",
                "--hide-scrollbars",
                f"--user-data-dir={self._profile.name}",
                "--remote-debugging-pipe",
                "about:blank",
            ],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            close_fds=False,  # keeps the inheritable descriptors 3 and 4 made in the child
            preexec_fn=lambda: _as_fds_3_and_4(to_browser, from_browser),
        )
        os.close(to_browser)
        os.close(from_browser)
        self._reader = os.fdopen(self._read_fd, "rb", buffering=0)
        self._buffer = b""
        self._next_id = 0
        self._events: list[dict] = []
        target = self.call("Target.createTarget", url="about:blank")["targetId"]
        self._session = self.call("Target.attachToTarget", targetId=target, flatten=True)["sessionId"]
        self.call("Page.enable", session=True)

    def __enter__(self) -> Browser:
        return self

    def __exit__(self, *_exc) -> None:
        self.close()

    def close(self) -> None:
        with contextlib.suppress(BrowserError, OSError):
            self.call("Browser.close")
        try:
            self._process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait()
        os.close(self._send_fd)
        self._reader.close()
        self._profile.cleanup()

    def _message(self) -> dict:
        while b"\0" not in self._buffer:
            chunk = self._reader.read(1 << 16)
            if not chunk:
                raise BrowserError("Chromium closed the DevTools pipe")
            self._buffer += chunk
        message, self._buffer = self._buffer.split(b"\0", 1)
        return json.loads(message)

    def call(self, method: str, session: bool = False, **params: Any) -> dict:
        """Send one command and wait for its answer (events that arrive meanwhile are kept)."""
        self._next_id += 1
        command: dict[str, Any] = {"id": self._next_id, "method": method, "params": params}
        if session:
            command["sessionId"] = self._session
        os.write(self._send_fd, json.dumps(command).encode() + b"\0")
        while True:
            message = self._message()
            if message.get("id") == self._next_id:
                if "error" in message:
                    raise BrowserError(f"{method}: {message['error'].get('message')}")
                return message.get("result", {})
            self._events.append(message)

    def _wait_for(self, event: str) -> None:
        while True:
            found = next((e for e in self._events if e.get("method") == event), None)
            if found:
                self._events.remove(found)
                return
            self._events.append(self._message())

    def open(self, page: Path, width: int, height: int = 844) -> None:
        """Load ``page`` in a viewport ``width`` x ``height`` CSS pixels (device scale 1)."""
        self.call(
            "Emulation.setDeviceMetricsOverride",
            session=True,
            width=width,
            height=height,
            deviceScaleFactor=1,
            mobile=width < 500,
        )
        self._events.clear()
        self.call("Page.navigate", session=True, url=Path(page).resolve().as_uri())
        self._wait_for("Page.loadEventFired")

    def evaluate(self, expression: str) -> Any:
        """The value of a JavaScript expression in the page (a promise is awaited)."""
        result = self.call(
            "Runtime.evaluate", session=True, expression=expression, awaitPromise=True, returnByValue=True
        )
        if "exceptionDetails" in result:
            details = result["exceptionDetails"]
            raise BrowserError(details.get("exception", {}).get("description") or details.get("text"))
        return result["result"].get("value")

    def pdf(self) -> bytes:
        """The page printed (print style sheet, A4 as the page asks)."""
        return base64.b64decode(self.call("Page.printToPDF", session=True, preferCSSPageSize=True)["data"])

    def screenshot(self, path: Path) -> Path:
        """The whole page, not only the viewport, as PNG."""
        shot = self.call("Page.captureScreenshot", session=True, format="png", captureBeyondViewport=True)
        path.write_bytes(base64.b64decode(shot["data"]))
        return path
