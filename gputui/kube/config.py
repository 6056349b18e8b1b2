"""Find and load cluster credentials the way kubectl does.

Order: `--kubeconfig FILE`, else every file in $KUBECONFIG (merged, the first file
that sets a key wins), else ~/.kube/config, else the in-cluster service account when
KUBERNETES_SERVICE_HOST is set. The sync `kubernetes` client's loader does the auth
work: it runs exec credential plugins (`aws eks get-token`) and re-runs them when
the token they returned expires, so a long TUI session keeps working.
"""

from __future__ import annotations

import logging
import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from gputui.errors import ConnectError

SERVICE_ACCOUNT_DIR = Path("/var/run/secrets/kubernetes.io/serviceaccount")


@dataclass
class KubeConfig:
    """What a client needs: the kubernetes `Configuration` plus names for messages."""

    configuration: Any  # kubernetes.client.Configuration
    server: str
    context: str | None
    user: str | None = None
    # The namespace the context (or service account) points at; `kubectl` uses it when -n is absent.
    default_namespace: str = "default"
    # Set with --namespace: gathering reads namespaced objects only there.
    namespace: str | None = None
    exec_command: str | None = None
    source: str = ""  # the kubeconfig file(s), or "in-cluster"
    loader: Any = field(default=None, repr=False)  # KubeConfigLoader, to force a credential refresh

    def refresh_credentials(self) -> None:
        """Re-run the exec plugin now (after a 401 the cached token is worthless)."""
        if self.loader is None or self.exec_command is None:
            return
        with _capture_client_log() as messages:
            self.loader._load_authentication()  # noqa: SLF001 - the client has no public refresh
            self.loader._set_config(self.configuration)  # noqa: SLF001
        if messages:
            raise _exec_failed(self.exec_command, messages[-1], self.source)


def kubeconfig_paths(explicit: str | None = None) -> list[Path]:
    """The files kubectl would read, in precedence order (only those that exist)."""
    if explicit:
        p = Path(explicit).expanduser()
        if not p.is_file():
            raise ConnectError(
                f"kubeconfig {explicit} does not exist",
                hint="pass an existing file to --kubeconfig, or drop the flag to use $KUBECONFIG",
            )
        return [p]
    env = os.environ.get("KUBECONFIG")
    if env:
        return [Path(x).expanduser() for x in env.split(os.pathsep) if x and Path(x).expanduser().is_file()]
    default = Path("~/.kube/config").expanduser()
    return [default] if default.is_file() else []


def load(
    kubeconfig: str | None = None,
    context: str | None = None,
    namespace: str | None = None,
    request_timeout: float = 30.0,
) -> KubeConfig:
    """Load credentials for `context`; every failure is a ConnectError naming the next step."""
    paths = kubeconfig_paths(kubeconfig)
    if not paths:
        if os.environ.get("KUBERNETES_SERVICE_HOST") and not kubeconfig:
            kc = _load_in_cluster()
        else:
            where = os.environ.get("KUBECONFIG") or "~/.kube/config"
            raise ConnectError(
                f"no kubeconfig found (looked at {where})",
                hint="point --kubeconfig or $KUBECONFIG at one (EKS: `aws eks update-kubeconfig --name CLUSTER`), "
                "or try `gputui demo`",
            )
    else:
        kc = _load_files(paths, context)
    kc.namespace = namespace
    kc.configuration.connection_pool_maxsize = 16
    # Retries are ours (with backoff, per resource); urllib3's would triple every timeout.
    kc.configuration.retries = False
    return kc


def _load_files(paths: list[Path], context: str | None) -> KubeConfig:
    import yaml
    from kubernetes import client as k8s_client
    from kubernetes.config.config_exception import ConfigException
    from kubernetes.config.kube_config import KubeConfigLoader, KubeConfigMerger

    source = os.pathsep.join(str(p) for p in paths)
    try:
        merger = KubeConfigMerger(source)
    except (yaml.YAMLError, ConfigException, OSError) as e:
        raise ConnectError(
            f"cannot read kubeconfig {source}: {_one_line(e)}", hint="fix the file or point --kubeconfig elsewhere"
        ) from None
    if merger.config is None:
        raise ConnectError(f"kubeconfig {source} is empty", hint="point --kubeconfig at a kubeconfig file")
    merged = {
        k: [_plain(x) for x in v] if k in ("clusters", "contexts", "users") else v
        for k, v in merger.config.value.items()
    }
    contexts = [c["name"] for c in merged.get("contexts") or [] if isinstance(c, dict) and "name" in c]
    # kubectl: the first file that sets current-context wins (the client's merger keeps the last).
    current = next(
        (
            cfg.get("current-context")
            for cfg in (merger.config_files.get(str(p)) for p in paths)
            if cfg and cfg.get("current-context")
        ),
        None,
    )
    name = context or current
    if not name:
        raise ConnectError(f"no current-context in {source} and no --context given", hint=_contexts_hint(contexts))
    if name not in contexts:
        raise ConnectError(f"context {name!r} not found in {source}", hint=_contexts_hint(contexts))
    ctx = next(c for c in merged["contexts"] if c["name"] == name)["context"] or {}
    user_name = ctx.get("user")
    user = next((u.get("user") or {} for u in merged.get("users") or [] if u.get("name") == user_name), {})
    cluster_name = ctx.get("cluster")
    cluster = next(
        (c.get("cluster") or {} for c in merged.get("clusters") or [] if c.get("name") == cluster_name), None
    )
    if cluster is None:
        raise ConnectError(
            f"context {name!r} refers to cluster {cluster_name!r}, which {source} does not define",
            hint="fix the context's cluster entry, or regenerate the kubeconfig",
        )
    if not cluster.get("server"):
        raise ConnectError(
            f"cluster {cluster_name!r} in {source} has no server address",
            hint="set clusters[].cluster.server in the kubeconfig",
        )

    exec_cfg = user.get("exec") if isinstance(user, dict) else None
    exec_command = None
    if exec_cfg:
        exec_command = str(exec_cfg.get("command") or "")
        _require_exec_command(exec_command, _user_file(merger, paths, user_name), user_name)

    configuration = k8s_client.Configuration()
    try:
        loader = KubeConfigLoader(config_dict=merger.config, active_context=name, config_base_path=None)
        with _capture_client_log() as messages:
            loader.load_and_set(configuration)
    except ConfigException as e:
        raise ConnectError(
            f"kubeconfig context {name!r}: {_one_line(e)}", hint="fix the context in the kubeconfig, or regenerate it"
        ) from None
    if exec_command and messages:
        # The client logs exec failures and carries on without a token; stop here instead.
        raise _exec_failed(exec_command, messages[-1], source)
    return KubeConfig(
        configuration=configuration,
        server=configuration.host,
        context=name,
        user=user_name,
        default_namespace=ctx.get("namespace") or "default",
        exec_command=exec_command,
        source=source,
        loader=loader,
    )


def _load_in_cluster() -> KubeConfig:
    from kubernetes import client as k8s_client
    from kubernetes.config.config_exception import ConfigException
    from kubernetes.config.incluster_config import InClusterConfigLoader

    configuration = k8s_client.Configuration()
    try:
        InClusterConfigLoader(
            token_filename=str(SERVICE_ACCOUNT_DIR / "token"), cert_filename=str(SERVICE_ACCOUNT_DIR / "ca.crt")
        ).load_and_set(configuration)
    except ConfigException as e:
        raise ConnectError(
            f"in-cluster configuration failed: {_one_line(e)}",
            hint=f"outside a pod, provide a kubeconfig; inside one, mount the service account "
            f"token at {SERVICE_ACCOUNT_DIR}",
        ) from None
    ns_file = SERVICE_ACCOUNT_DIR / "namespace"
    ns = ns_file.read_text().strip() if ns_file.is_file() else "default"
    return KubeConfig(
        configuration=configuration,
        server=configuration.host,
        context=None,
        user="serviceaccount",
        default_namespace=ns or "default",
        source="in-cluster",
    )


def _require_exec_command(command: str, kubeconfig_file: Path | None, user: str | None) -> None:
    """Fail early, by name, when the credential plugin cannot run (the client would only log it)."""
    if not command:
        raise ConnectError(
            f"user {user!r} has an exec credential plugin without a command",
            hint="set users[].user.exec.command in the kubeconfig",
        )
    if os.sep in command:
        base = kubeconfig_file.parent if kubeconfig_file else Path.cwd()
        path = Path(command) if os.path.isabs(command) else base / command
        found = path.is_file() and os.access(path, os.X_OK)
    else:
        found = shutil.which(command) is not None
    if found:
        return
    if Path(command).name == "aws":
        hint = (
            "install the AWS CLI v2 and make sure `aws` is on PATH (or put its full path in "
            "users[].user.exec.command); `aws eks update-kubeconfig` writes this entry"
        )
    else:
        hint = f"install `{command}` or put its full path in users[].user.exec.command"
    raise ConnectError(f"the kubeconfig's credential plugin `{command}` (user {user!r}) is not on PATH", hint=hint)


def _exec_failed(command: str, message: str, source: str) -> ConnectError:
    hint = (
        f"run `{command}` by hand to see why; for `aws eks get-token` check `aws sts get-caller-identity` "
        "and AWS_PROFILE"
        if Path(command).name == "aws"
        else f"run `{command}` by hand to see why"
    )
    return ConnectError(f"credential plugin `{command}` failed: {_one_line(message)}", hint=hint)


def _user_file(merger, paths: list[Path], user_name: str | None) -> Path | None:
    """The file that defined the user (relative exec commands resolve against it, as kubectl does)."""
    for p in paths:
        cfg = merger.config_files.get(str(p)) or {}
        if any(u.get("name") == user_name for u in cfg.get("users") or [] if isinstance(u, dict)):
            return p
    return paths[0] if paths else None


def _plain(node: Any) -> Any:
    """The merger wraps each named entry in a ConfigNode; checks here want the dict."""
    return getattr(node, "value", node)


def _contexts_hint(contexts: list[str]) -> str:
    if not contexts:
        return "the kubeconfig defines no contexts; regenerate it (EKS: `aws eks update-kubeconfig --name CLUSTER`)"
    shown = ", ".join(contexts[:12]) + (f" (and {len(contexts) - 12} more)" if len(contexts) > 12 else "")
    return f"available contexts: {shown}; pick one with --context"


def _one_line(e: Any) -> str:
    return " ".join(str(e).split())[:300]


class _capture_client_log:
    """Collect the error lines the client's loader logs (it swallows exec failures).

    A handler on the root logger also keeps `logging.error` from calling basicConfig
    and printing the message to stderr by itself.
    """

    def __enter__(self) -> list[str]:
        self.messages: list[str] = []
        outer = self

        class _Collect(logging.Handler):
            def emit(self, record: logging.LogRecord) -> None:
                if record.levelno >= logging.ERROR:
                    outer.messages.append(record.getMessage())

        self.handler = _Collect()
        root = logging.getLogger()
        self._propagate_handlers = list(root.handlers)
        root.addHandler(self.handler)
        # Keep the message off stderr: the caller turns it into one clean error line.
        for h in self._propagate_handlers:
            h.addFilter(self._drop)
        return self.messages

    @staticmethod
    def _drop(record: logging.LogRecord) -> bool:
        return False

    def __exit__(self, *exc) -> None:
        root = logging.getLogger()
        root.removeHandler(self.handler)
        for h in self._propagate_handlers:
            h.removeFilter(self._drop)
