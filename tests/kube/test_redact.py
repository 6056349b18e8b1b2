"""What snapshot redaction takes out (credentials in args, commands, annotations) and what it
leaves alone (ordinary flags, names, digests), over generated variations of both."""

from __future__ import annotations

import itertools
import random

import pytest

from gputui.redact import REDACTED, looks_secret, redact_args, redact_object, redact_text

SECRET = "s3cr3t-Val_ue.9"
SECRET_NAMES = [
    "token",
    "api-key",
    "api_key",
    "apikey",
    "password",
    "passwd",
    "secret",
    "client-secret",
    "auth-token",
    "hf-token",
    "access-key",
    "private-key",
    "clientSecret",
    "apiKey",
]
ORDINARY_FLAGS = [
    "--max-tokens=4096",
    "--max-num-batched-tokens=8192",
    "--tokenizer=meta-llama/Llama-3-8B",
    "--tokenizer-mode=auto",
    "--token-file=/var/run/secrets/eks.amazonaws.com/serviceaccount/token",
    "--secret-name=hf-credentials",
    "--password-file=/etc/db/password",
    "--service-account-key-file=/etc/sa.key",
    "--authentication-token-webhook=true",
    "--model=meta-llama/Llama-3-8B-Instruct",
    "--tensor-parallel-size=4",
    "--port=8000",
    "--kubelet-insecure-tls",
    "--token=$(HF_TOKEN)",
    "--api-key=${OPENAI_API_KEY}",
    "--log-level=debug",
    "--gpu-memory-utilization=0.9",
]


# (a bare word followed by a value is not a flag: "" with " " is left out)
@pytest.mark.parametrize(
    ("name", "dashes", "sep"),
    [(n, d, s) for n, d, s in itertools.product(SECRET_NAMES, ["--", "-", ""], ["=", " "]) if d or s == "="],
)
def test_secret_flags_lose_their_value(name, dashes, sep):
    text = f"python serve.py {dashes}{name}{sep}{SECRET} --port 8000"
    out = redact_text(text)
    assert SECRET not in out and f"{dashes}{name}{sep}{REDACTED}" in out and out.endswith("--port 8000")
    args = ["serve", f"{dashes}{name}{sep}{SECRET}"] if sep == "=" else ["serve", f"{dashes}{name}", SECRET]
    assert SECRET not in " ".join(redact_args(args))


@pytest.mark.parametrize("flag", ORDINARY_FLAGS)
def test_ordinary_flags_stay(flag):
    assert redact_text(flag) == flag
    assert redact_args([flag, "value"]) == [flag, "value"]
    assert redact_text(f"sh -c 'exec server {flag}'") == f"sh -c 'exec server {flag}'"


@pytest.mark.parametrize(
    "text",
    [
        "HF_TOKEN=hf_{0} python train.py",
        "export GITHUB_TOKEN={0}; make",
        "AWS_SECRET_ACCESS_KEY={0} aws s3 ls",
        "OPENAI_API_KEY={0} python app.py",
        "DB_PASSWORD={0} ./run",
        "curl -H 'Authorization: Bearer {0}' https://api",
        'curl -H "authorization: token {0}" https://api',
        "curl -u user:pw https://user:{0}@registry.example.com/v2/",
        "psql postgres://admin:{0}@db:5432/app",
        "wget https://example.com/file?token={0}&x=1",
        '{{"password": "{0}", "user": "bob"}}',
        "password: {0}",
        "mysql --password {0} db",
    ],
)
def test_secrets_in_command_lines(text):
    rng = random.Random(text)
    value = "".join(rng.choice("abcdefXYZ0123456789") for _ in range(24))
    out = redact_text(text.format(value))
    assert value not in out and REDACTED in out


@pytest.mark.parametrize(
    "token",
    [
        "AKIAIOSFODNN7EXAMPLE",
        "ASIAY34FZKBOKMUTVV7A",
        "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U",
        "ghp_0123456789abcdefghijABCDEFGHIJ012345",
        "hf_AbCdEfGhIjKlMnOpQrStUvWxYz0123456789",
        "sk-proj-abcdefghijklmnopqrstuvwxyz0123",
        "xoxb-123456789012-abcdefghijkl",
    ],
)
def test_well_known_tokens_anywhere(token):
    assert token not in redact_text(f"starting with {token} now")
    annotations = {"example.com/whatever": token}
    redact_object({"metadata": {"annotations": annotations}})
    assert annotations["example.com/whatever"] == REDACTED


ORDINARY_ANNOTATIONS = {
    "cert-manager.io/secret-name": "tls-cert",
    "vault.hashicorp.com/agent-inject-secret-db": "true",
    "checksum/config": "5f2b9c0a" * 8,
    "kubectl.kubernetes.io/restartedAt": "2026-11-30T02:00:00Z",
    "deployment.kubernetes.io/revision": "12",
    "karpenter.sh/nodepool-hash": "4010951020068392240",
    "container.seccomp.security.alpha.kubernetes.io/pod": "runtime/default",
    "eks.amazonaws.com/role-arn": "arn:aws:iam::123456789012:role/gpu-operator",
    "description": "Serves the Llama 3 model for the chat frontend; tokens per second matter",
    "image-digest": "sha256:371e9f7d5aeb38e5bdb4efe3367bd0e71f883768b98e6c366f9eccea8ff2ac59",
    "uid": "123e4567-e89b-12d3-a456-426614174000",
    "sim.gputui.dev/log.nvidia-device-plugin": "I1130 main.go:250] Starting\nE1130 nvml init failed",
    "token-ttl": "3600",
}


def test_ordinary_annotations_stay():
    annotations = dict(ORDINARY_ANNOTATIONS)
    redact_object({"metadata": {"annotations": annotations}})
    assert annotations == ORDINARY_ANNOTATIONS


@pytest.mark.parametrize("seed", range(20))
def test_credential_annotations_go(seed):
    rng = random.Random(seed)
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
    value = "".join(rng.choice(alphabet) for _ in range(rng.randint(32, 64)))
    key = rng.choice(["example.com/token", "vault/secret", "app/db-password", "x/apikey", "plain/random"])
    annotations = {key: value, **ORDINARY_ANNOTATIONS}
    assert looks_secret(value) or key != "plain/random"
    redact_object({"metadata": {"annotations": annotations}})
    assert annotations.pop(key) == REDACTED and annotations == ORDINARY_ANNOTATIONS


def test_pod_args_commands_env_and_template_annotations():
    pod = {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "llm", "annotations": {"example.com/api-key": "k-" + "Z9y8X7w6" * 4}},
        "spec": {
            "template": {
                "metadata": {"annotations": {"example.com/token": "t0k3n-abcdefgh"}},
                "spec": {
                    "containers": [
                        {
                            "name": "server",
                            "command": ["sh", "-c", "HF_TOKEN=hf_abc123def456 exec vllm serve"],
                            "args": ["--api-key", "sk-local-123", "--max-tokens", "4096"],
                            "env": [{"name": "MODEL", "value": "llama"}, {"name": "X", "valueFrom": {"k": "v"}}],
                        }
                    ]
                },
            }
        },
    }
    redact_object(pod, mark="(gone)")
    c = pod["spec"]["template"]["spec"]["containers"][0]
    assert c["command"] == ["sh", "-c", "HF_TOKEN=(gone) exec vllm serve"]
    assert c["args"] == ["--api-key", "(gone)", "--max-tokens", "4096"]
    assert c["env"] == [{"name": "MODEL", "value": "(gone)"}, {"name": "X", "valueFrom": {"k": "v"}}]
    assert pod["metadata"]["annotations"]["example.com/api-key"] == "(gone)"
    assert pod["spec"]["template"]["metadata"]["annotations"]["example.com/token"] == "(gone)"
