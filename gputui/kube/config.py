"""Find and load cluster credentials the way kubectl does.

Order: `--kubeconfig FILE`, else every file in $KUBECONFIG (merged, the first file
that sets a key wins), else ~/.kube/config, else the in-cluster service account when
KUBERNETES_SERVICE_HOST is set. The sync `kubernetes` client's loader does the auth
work: it runs exec credential plugins (`aws eks get-token`) and re-runs them when
the token they returned expires, so a long TUI session keeps working.
"""

from __future__ import annotations

import atexit
import functools
import json
import logging
import os
import shutil
import signal
import subprocess
import threading
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
        # As kubectl: files named in $KUBECONFIG that do not exist are skipped.
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
    set_exec_timeout(request_timeout)
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
    from kubernetes import client as k8s_client
    from kubernetes.config.config_exception import ConfigException
    from kubernetes.config.kube_config import KubeConfigLoader

    docs = [(p, doc) for p in paths if (doc := read_kubeconfig(p)) is not None]
    source = os.pathsep.join(str(p) for p in paths)
    if not docs:
        raise ConnectError(
            f"kubeconfig {source} is empty"
            if len(paths) == 1
            else f"every kubeconfig in $KUBECONFIG is empty: {source}",
            hint="point --kubeconfig or $KUBECONFIG at a kubeconfig file "
            "(EKS: `aws eks update-kubeconfig --name CLUSTER`)",
        )
    source = os.pathsep.join(str(p) for p, _ in docs)
    merged = merge_kubeconfigs(docs)
    plain = {k: [x.value for x in merged.value[k]] for k in _NAMED}
    contexts = [c["name"] for c in plain["contexts"]]
    name = context or merged.value.get("current-context")
    if not name:
        raise ConnectError(f"no current-context in {source} and no --context given", hint=_contexts_hint(contexts))
    if name not in contexts:
        raise ConnectError(f"context {name!r} not found in {source}", hint=_contexts_hint(contexts))
    ctx = next(c for c in plain["contexts"] if c["name"] == name).get("context") or {}
    user_name = ctx.get("user") or None
    users = {u["name"]: u.get("user") or {} for u in plain["users"]}
    if user_name and user_name not in users:
        raise ConnectError(
            f"context {name!r} refers to user {user_name!r}, which {source} does not define",
            hint="fix the context's user entry, or regenerate the kubeconfig",
        )
    user = users.get(user_name or "", {})
    cluster_name = ctx.get("cluster")
    cluster = next((c.get("cluster") or {} for c in plain["clusters"] if c["name"] == cluster_name), None)
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
        _require_exec_command(exec_command, _user_file(docs, user_name), user_name)

    install_bounded_exec()
    configuration = k8s_client.Configuration()
    try:
        loader = KubeConfigLoader(config_dict=merged, active_context=name, config_base_path=None)
        with _capture_client_log() as messages:
            loader.load_and_set(configuration)
    except (ConfigException, ValueError, TypeError, OSError) as e:
        raise ConnectError(
            f"kubeconfig context {name!r} in {source}: {_one_line(e)}",
            hint="fix the context in the kubeconfig, or regenerate it",
        ) from None
    if exec_command and messages:
        # The client logs exec failures and carries on without a token; stop here instead.
        raise _exec_failed(exec_command, messages[-1], source)
    if "://" not in (configuration.host or ""):
        configuration.host = f"https://{configuration.host}"  # as client-go reads a server without a scheme
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


def _user_file(docs: list[tuple[Path, dict]], user_name: str | None) -> Path | None:
    """The file that defined the user (relative exec commands resolve against it, as kubectl does)."""
    for p, doc in docs:
        if any(u.get("name") == user_name for u in doc.get("users") or []):
            return p
    return docs[0][0] if docs else None


# -- reading and merging kubeconfig files -----------------------------------------------

_NAMED = {"clusters": "cluster", "contexts": "context", "users": "user"}
# The scalar fields kubectl decodes, and their types; a value of another type is an error there too.
_FIELDS: dict[str, dict[str, type | tuple[type, ...]]] = {
    "cluster": {
        "server": str,
        "certificate-authority": str,
        "certificate-authority-data": str,
        "insecure-skip-tls-verify": bool,
        "tls-server-name": str,
        "proxy-url": str,
        "disable-compression": bool,
        "extensions": list,
    },
    "context": {"cluster": str, "user": str, "namespace": str, "extensions": list},
    "user": {
        "token": str,
        "tokenFile": str,
        "client-certificate": str,
        "client-certificate-data": str,
        "client-key": str,
        "client-key-data": str,
        "username": str,
        "password": str,
        "as": str,
        "exec": dict,
        "auth-provider": dict,
        "extensions": list,
    },
}
_EXEC_FIELDS: dict[str, type | tuple[type, ...]] = {
    "command": str,
    "args": list,
    "env": list,
    "apiVersion": str,
    "installHint": str,
    "provideClusterInfo": bool,
    "interactiveMode": str,
}


def read_kubeconfig(path: Path) -> dict | None:
    """One kubeconfig file as a checked mapping, or None when it is empty (kubectl skips those).

    A file kubectl would refuse (not UTF-8, not YAML, not a mapping, a field of the wrong
    type) is a ConnectError naming the file and what is wrong, never a traceback."""
    import yaml

    def bad(what: str) -> ConnectError:
        return ConnectError(
            f"kubeconfig {path} is not valid: {what}",
            hint="fix the file or point --kubeconfig/$KUBECONFIG elsewhere "
            "(EKS: `aws eks update-kubeconfig --name CLUSTER` writes a fresh one)",
        )

    try:
        data = path.read_bytes()
    except OSError as e:
        raise ConnectError(
            f"cannot read kubeconfig {path}: {e.strerror or e}", hint="check the file's permissions"
        ) from None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as e:
        raise bad(f"not UTF-8 text (byte {e.start})") from None
    try:
        doc = yaml.safe_load(text)
    except yaml.YAMLError as e:
        raise bad(f"not YAML: {_one_line(e)}") from None
    except RecursionError:
        raise bad("nested too deeply") from None
    if doc is None:
        return None
    if not isinstance(doc, dict):
        raise bad(f"the top level is a {_type_name(doc)}, not a mapping of clusters, contexts and users")
    _check_fields(doc, {"current-context": str, "preferences": dict, "kind": str, "apiVersion": str}, "", bad)
    for key, field_name in _NAMED.items():
        entries = doc.get(key)
        if entries is None:
            continue
        if not isinstance(entries, list):
            raise bad(f"{key} is a {_type_name(entries)}, not a list")
        for i, entry in enumerate(entries):
            where = f"{key}[{i}]"
            if not isinstance(entry, dict):
                raise bad(f"{where} is a {_type_name(entry)}, not a mapping")
            if not isinstance(entry.get("name"), str) or not entry.get("name"):
                raise bad(f"{where} has no name")
            body = entry.get(field_name)
            if body is None:
                continue
            if not isinstance(body, dict):
                raise bad(f"{where}.{field_name} is a {_type_name(body)}, not a mapping")
            _check_fields(body, _FIELDS[field_name], f"{where}.{field_name}.", bad)
            exec_cfg = body.get("exec") if field_name == "user" else None
            if exec_cfg:
                _check_fields(exec_cfg, _EXEC_FIELDS, f"{where}.user.exec.", bad)
                if any(not isinstance(a, str) for a in exec_cfg.get("args") or []):
                    raise bad(f"{where}.user.exec.args must be a list of strings")
                for env in exec_cfg.get("env") or []:
                    if not (isinstance(env, dict) and isinstance(env.get("name"), str)):
                        raise bad(f"{where}.user.exec.env must be a list of {{name, value}} mappings")
                    if not isinstance(env.get("value", ""), str):
                        raise bad(f"{where}.user.exec.env value of {env['name']} is not a string")
    return doc


def _check_fields(body: dict, fields: dict[str, type | tuple[type, ...]], where: str, bad) -> None:
    for key, want in fields.items():
        value = body.get(key)
        if value is not None and not isinstance(value, want):
            name = want.__name__ if isinstance(want, type) else "/".join(t.__name__ for t in want)
            raise bad(f"{where}{key} is a {_type_name(value)}, not a {_YAML_NAMES.get(name, name)}")


_YAML_NAMES = {"str": "string", "dict": "mapping", "bool": "boolean", "int": "number"}


def _type_name(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    return {dict: "mapping", list: "list", str: "string", int: "number", float: "number"}.get(type(value), "scalar")


def merge_kubeconfigs(docs: list[tuple[Path, dict]]) -> Any:
    """kubectl's merge: for clusters, contexts and users the first file that names an entry wins,
    and so does the first current-context. Entries remember their file, so relative paths in them
    (certificate-authority, exec commands) resolve against it."""
    from kubernetes.config.kube_config import ConfigNode

    first_path, first = docs[0]
    merged: dict[str, Any] = {k: v for k, v in first.items() if k not in _NAMED}
    merged.update({k: [] for k in _NAMED})
    seen: dict[str, set[str]] = {k: set() for k in _NAMED}
    for path, doc in docs:
        for key in _NAMED:
            for entry in doc.get(key) or []:
                if entry["name"] not in seen[key]:
                    seen[key].add(entry["name"])
                    merged[key].append(ConfigNode(f"{path}/{key}/{entry['name']}", entry, str(path)))
        if not merged.get("current-context") and doc.get("current-context"):
            merged["current-context"] = doc["current-context"]
    return ConfigNode(str(first_path), merged, str(first_path))


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


# -- exec credential plugins, bounded --------------------------------------------------

DEFAULT_EXEC_TIMEOUT = 30.0
_exec_timeout: float | None = DEFAULT_EXEC_TIMEOUT
_running_plugins: set[Any] = set()
_plugins_lock = threading.Lock()


def set_exec_timeout(seconds: float | None) -> None:
    """How long a credential plugin may run: --request-timeout (0 or None: no limit)."""
    global _exec_timeout
    _exec_timeout = seconds if seconds and seconds > 0 else None


def install_bounded_exec() -> None:
    """Have the client's kubeconfig loader run exec plugins through `_BoundedExecProvider`:
    in their own process group, with a timeout, killed when gputui exits or is interrupted.
    The client runs them with no timeout, so one hanging `aws eks get-token` hung gputui."""
    from kubernetes.config import kube_config

    if kube_config.ExecProvider is not _bounded_exec_provider():
        kube_config.ExecProvider = _bounded_exec_provider()  # type: ignore[misc,assignment]
        atexit.register(kill_running_plugins)


def kill_running_plugins() -> None:
    """Kill every credential plugin still running, with its children (its process group)."""
    with _plugins_lock:
        running = list(_running_plugins)
    for proc in running:
        _kill_group(proc)


def _kill_group(proc: Any) -> None:
    if proc.poll() is not None:
        return
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    try:
        proc.wait(timeout=5)
    except Exception:  # noqa: BLE001 - best effort: the group was killed
        pass


@functools.cache
def _bounded_exec_provider() -> type:
    from kubernetes.config.config_exception import ConfigException
    from kubernetes.config.exec_provider import ExecProvider

    class _BoundedExecProvider(ExecProvider):
        def run(self, previous_response=None):
            info: dict[str, Any] = {
                "apiVersion": self.api_version,
                "kind": "ExecCredential",
                "spec": {"interactive": False},
            }
            if previous_response:
                info["spec"]["response"] = previous_response
            if self.cluster:
                info["spec"]["cluster"] = self.cluster.value
            self.env["KUBERNETES_EXEC_INFO"] = json.dumps(info)
            command = " ".join(str(a) for a in self.args[:1])
            timeout = _exec_timeout
            try:
                proc = subprocess.Popen(
                    [str(a) for a in self.args],
                    stdout=subprocess.PIPE,
                    stderr=subprocess.PIPE,
                    stdin=subprocess.DEVNULL,
                    cwd=self.cwd,
                    env=self.env,
                    start_new_session=True,  # its own process group: killed whole, and Ctrl-C stays ours
                )
            except OSError as e:
                raise ConfigException(f"exec: cannot run {command}: {e.strerror or e}") from None
            with _plugins_lock:
                _running_plugins.add(proc)
            try:
                out, err = proc.communicate(timeout=timeout)
            except subprocess.TimeoutExpired:
                raise ConfigException(f"exec: {command} did not finish within {timeout:g}s (killed)") from None
            finally:
                _kill_group(proc)
                with _plugins_lock:
                    _running_plugins.discard(proc)
            if proc.returncode != 0:
                msg = f"exec: process returned {proc.returncode}"
                text = err.decode("utf-8", "replace").strip()
                return_text = f"{msg}. {text}" if text else msg
                raise ConfigException(return_text)
            try:
                data = json.loads(out)
            except ValueError as e:
                raise ConfigException(f"exec: failed to decode process output: {e}") from None
            if not isinstance(data, dict) or not isinstance(data.get("status"), dict):
                raise ConfigException("exec: malformed response: no status in the ExecCredential it printed")
            if data.get("apiVersion") != self.api_version:
                raise ConfigException(
                    f"exec: plugin api version {data.get('apiVersion')} does not match {self.api_version}"
                )
            return data["status"]

    return _BoundedExecProvider
