"""POSTing webhook messages over HTTP (the standard library's client, one request a call)."""

from __future__ import annotations

import socket
import urllib.error
import urllib.request
from collections.abc import Mapping

from iotbill.services.ports import SendResult

MAX_ERROR = 300


class HttpWebhookSender:
    """Sends each POST on its own connection, waiting at most ``timeout`` seconds for it to
    connect and for each read; redirects are not followed (a 3xx is a failure)."""

    def send(self, url: str, body: bytes, headers: Mapping[str, str], timeout: float) -> SendResult:
        request = urllib.request.Request(url, data=body, headers=dict(headers), method="POST")
        opener = urllib.request.build_opener(_NoRedirect)
        try:
            with opener.open(request, timeout=timeout) as response:
                response.read(65536)
                return SendResult(response.status)
        except urllib.error.HTTPError as error:
            return SendResult(error.code, f"HTTP {error.code} {error.reason}"[:MAX_ERROR])
        except TimeoutError:
            return SendResult(None, f"no answer within {timeout:g} s")
        except urllib.error.URLError as error:
            reason = error.reason
            if isinstance(reason, TimeoutError | socket.timeout):
                return SendResult(None, f"no answer within {timeout:g} s")
            return SendResult(None, f"could not connect: {reason}"[:MAX_ERROR])
        except (OSError, ValueError) as error:
            return SendResult(None, f"{type(error).__name__}: {error}"[:MAX_ERROR])


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: object, **kwargs: object) -> None:
        return None
