"""runtools: the Python SDK of the runtools sandbox platform.

    from runtools import Sandbox
    with Sandbox.create(template="base") as sb:
        print(sb.exec("echo hello").stdout)

``Sandbox`` and ``Client`` are the sync API; ``AsyncSandbox`` and
``AsyncClient`` the same over asyncio. Errors are ``RuntoolsError``s.
"""

from .async_client import AsyncClient
from .async_computer import AsyncComputer
from .async_files import AsyncFiles, AsyncVolumeFiles
from .async_process import AsyncProcess
from .async_sandbox import AsyncSandbox
from .async_watch import AsyncWatcher
from .client import Client
from .code import CodeContext, CodeError, CodeResult, Execution
from .computer import Computer
from .config import DEFAULT_URL, ENV_API_KEY, ENV_URL
from .errors import (AlreadyExists, Conflict, Forbidden, InternalError, InvalidArgument, NotFound,
                     PermissionDenied, RateLimited, ResourceExhausted, RuntoolsError, Unauthenticated,
                     Unauthorized, Unavailable)
from .models import (APIKey, ComputerResult, DrainEvent, Egress, ExecEvent, ExecResult, FileInfo, Identity, Link,
                     Metrics, Node, Point, ProcessInfo, Quota, SandboxEvent, SandboxInfo, ScreenSize, Snapshot, SSHKey, Status, Team,
                     TeamLimits, TeamUsage, Template, TemplateProgress, Volume, VolumeMount, Webhook, WebhookAttempt,
                     WebhookDelivery, WebhookEvent, WebhookSandbox, Window)
from .files import Files, VolumeFiles
from .process import Process
from .sandbox import Sandbox
from .watch import Watcher
from .webhook import verify_webhook

__version__ = "0.1.0"

__all__ = [
    "AsyncClient", "AsyncSandbox", "Client", "Sandbox", "Process", "Watcher", "Files", "Computer",
    "AsyncProcess", "AsyncWatcher", "AsyncFiles", "AsyncComputer", "VolumeFiles", "AsyncVolumeFiles",
    "CodeContext", "CodeError", "CodeResult", "Execution",
    "DEFAULT_URL", "ENV_API_KEY", "ENV_URL",
    "RuntoolsError", "AlreadyExists", "Conflict", "Forbidden", "InternalError", "InvalidArgument", "NotFound",
    "PermissionDenied", "RateLimited", "ResourceExhausted", "Unauthenticated", "Unauthorized", "Unavailable",
    "APIKey", "ComputerResult", "Egress", "ExecEvent", "ExecResult", "FileInfo", "Identity", "Link", "Metrics",
    "Point", "ProcessInfo", "SandboxEvent", "SandboxInfo", "ScreenSize", "Snapshot", "SSHKey", "Status", "Team",
    "TeamLimits", "TeamUsage", "Quota", "Node", "DrainEvent",
    "Template", "TemplateProgress", "Volume", "VolumeMount", "Window",
    "Webhook", "WebhookAttempt", "WebhookDelivery", "WebhookEvent", "WebhookSandbox", "verify_webhook",
]
