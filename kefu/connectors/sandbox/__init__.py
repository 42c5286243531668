"""Contract fakes of the platforms (issue 21 §5): small servers that speak each documented protocol —
they check the signature, page, and answer the documented error codes — used by the tests over HTTP
and by the demo as its "sandbox" accounts. Each fake checks requests with its own code, not the
connector's, so a connector that signs or pages wrongly fails against it."""

import os

# The demo's sandbox accounts: where ``kefu sandbox`` serves each fake and the keys it accepts.
HOST = "127.0.0.1"
PORT = int(os.environ.get("KEFU_SANDBOX_PORT", "8701"))  # TOP; Pinduoduo +1, DingTalk +2
TOP = {"app_key": "sandbox-top", "app_secret": "sandbox-top-secret", "session": "sandbox-top-session"}
PDD = {"app_key": "sandbox-pdd", "app_secret": "sandbox-pdd-secret", "session": "sandbox-pdd-token"}
DINGTALK = {"app_key": "sandbox-ding", "app_secret": "sandbox-ding-secret"}


def gateways(port: int = PORT) -> dict[str, str]:
    return {
        "taobao": f"http://{HOST}:{port}/router/rest",
        "pinduoduo": f"http://{HOST}:{port + 1}/api/router",
        "dingtalk": f"http://{HOST}:{port + 2}",
    }
