"""Taking credentials out of what gputui writes for others to read (snapshot files, logs).

Two entry points:
* `redact_text(text)`: a command line, an argument, a log line. Replaces the values of
  `--token=…`/`--api-key …`/`password=…`/`HF_TOKEN=…`-like pairs, `Authorization: Bearer …`,
  credentials in URLs (`https://user:pass@host`), AWS access key ids, JWTs and tokens with a
  well-known prefix (ghp_, hf_, sk-, xox…).
* `redact_object(obj)`: a Kubernetes object, in place. Every `env` value goes; `command` and
  `args` lists go through `redact_text` (a secret-named flag followed by its value as the next
  element loses that element); annotation values go when the key names a secret or the value
  looks like one (a JWT, a long random-looking string).

What a secret is named: a name whose words (split at `-`, `_`, `.`, `/` and camelCase) include
token, secret, password, passwd, pwd, apikey, credential(s), or api/access/private/secret + key —
unless the last word says the value only points at one (…-file, …-path, …-name, …-ref, …-ttl).
So `--max-tokens=4096`, `--tokenizer=bert`, `--token-file=/var/run/token` and
`cert-manager.io/secret-name: tls` stay as they are. References to other variables
(`$(HF_TOKEN)`, `${TOKEN}`), booleans and numbers are never secrets.
"""

from __future__ import annotations

import math
import re
from typing import Any

REDACTED = "(redacted)"

_SECRET_WORDS = frozenset(
    {"token", "secret", "password", "passwd", "pwd", "apikey", "credential", "credentials", "passphrase"}
)
# Words that name a secret even inside a longer word (PGPASSWORD, DBSECRET); "token" is not one
# of them (tokenizer, max_tokens).
_SECRET_PARTS = ("password", "passwd", "passphrase", "secret")
_KEY_PAIRS = frozenset({("api", "key"), ("access", "key"), ("private", "key"), ("secret", "key"), ("auth", "key")})
_POINTER_WORDS = frozenset(
    {"file", "path", "name", "names", "ref", "dir", "namespace", "ttl", "type", "version", "mount", "length", "expiry"}
)
_WORD_SPLIT = re.compile(r"[-_./\s]+|(?<=[a-z0-9])(?=[A-Z])")


def secret_name(name: str) -> bool:
    """True when a flag, variable or key called `name` carries a credential as its value."""
    words = [w.lower() for w in _WORD_SPLIT.split(name.strip("-\"' ")) if w]
    if not words or words[-1] in _POINTER_WORDS:
        return False
    if any(w in _SECRET_WORDS or any(part in w for part in _SECRET_PARTS) for w in words):
        return True
    return any(pair in _KEY_PAIRS for pair in zip(words, words[1:])) or (
        # FOO_KEY=... in a shell line: upper-case environment names ending in _KEY
        name.isupper() and words[-1] == "key" and len(words) > 1
    )


def _secret_value(value: str) -> bool:
    v = value.strip("\"'")
    if not v or v == REDACTED or v.startswith(("$", "(redacted")):
        return False
    return v.lower() not in ("true", "false", "yes", "no", "null", "none") and not v.isdigit()


_PAIR = re.compile(
    r"(?<![\w.-])(?P<name>-{0,2}[A-Za-z_][\w.-]*)(?P<sep>[\"']?[ \t]*(?:=|:(?!//))[ \t]*[\"']?)(?P<value>[^\s\"'&]+)"
)
_FLAG_SPACE = re.compile(r"(?<![\w.-])(?P<name>--?[A-Za-z][\w.-]*)(?P<sep>[ \t]+)(?P<value>[^\s\"'&-][^\s\"'&]*)")
_AUTH = re.compile(
    r"(?i)(?P<pre>authorization[\"']?[ \t]*[:=][ \t]*[\"']?(?:bearer|basic|token)[ \t]+)(?P<value>[^\s\"']+)"
    r"|(?P<pre2>\bbearer[ \t]+)(?P<value2>(?=[A-Za-z0-9._~+/=-]*[0-9._~+/=-])[A-Za-z0-9._~+/=-]{16,})"
)
_URL_PASSWORD = re.compile(r"(?P<pre>\b[a-zA-Z][a-zA-Z0-9+.-]*://[^/\s:@]+:)(?P<value>[^@\s/]+)(?=@)")
_TOKENS = re.compile(
    r"\b(?:AKIA|ASIA|AGPA|AIDA|AROA|ANPA|ANVA|AIPA)[A-Z0-9]{16}\b"  # AWS access key ids
    r"|\beyJ[\w-]{8,}\.[\w-]{8,}\.[\w-]*"  # JWT
    r"|\b(?:ghp|gho|ghu|ghs|ghr|github_pat|hf|glpat)_[A-Za-z0-9_]{20,}"  # GitHub, Hugging Face, GitLab
    r"|\bsk-[A-Za-z0-9_-]{20,}"  # OpenAI-style API keys
    r"|\bxox[abprs]-[A-Za-z0-9-]{10,}"  # Slack
)


def redact_text(text: str, mark: str = REDACTED) -> str:
    """`text` with every credential it carries replaced by `mark` (see the module's docstring)."""
    if not text or len(text) < 6:
        return text

    def auth(m: re.Match) -> str:
        return (m["pre"] or m["pre2"]) + mark

    text = _AUTH.sub(auth, text)
    text = _URL_PASSWORD.sub(lambda m: m["pre"] + mark, text)
    text = _pairs(_PAIR, text, mark)
    text = _pairs(_FLAG_SPACE, text, mark)
    return _TOKENS.sub(mark, text)


def _pairs(pattern: re.Pattern, text: str, mark: str) -> str:
    """Replace the values of secret-named pairs; a pair that is not secret is skipped by its name
    only, so that a secret inside its value (`url=https://x/?token=abc`) is still found."""
    out: list[str] = []
    pos = 0
    while True:
        m = pattern.search(text, pos)
        if m is None:
            break
        if secret_name(m["name"]) and _secret_value(m["value"]):
            out.append(text[pos : m.start("value")] + mark)
            pos = m.end("value")
        else:
            out.append(text[pos : m.end("name")])
            pos = m.end("name")
    if not out:
        return text
    out.append(text[pos:])
    return "".join(out)


def redact_args(args: list, mark: str = REDACTED) -> list:
    """A container's `command` or `args`: each element through redact_text, and the element
    after a bare secret-named flag (`["--token", "abc"]`) replaced whole."""
    out: list = []
    hide_next = False
    for item in args:
        if not isinstance(item, str):
            out.append(item)
            hide_next = False
            continue
        if hide_next and _secret_value(item) and not item.startswith("-"):
            out.append(mark)
        else:
            out.append(redact_text(item, mark))
        hide_next = item.startswith("-") and "=" not in item and secret_name(item)
    return out


def looks_secret(value: str) -> bool:
    """A JWT, a known token, or one long random-looking word (mixed case and digits, high entropy).
    Hex digests, UUIDs, names, paths, URLs and prose are not."""
    if any(c.isspace() for c in value):
        return False  # prose, a log, a command line: redact_text takes out what is in it
    if _TOKENS.fullmatch(value):
        return True
    if len(value) < 32 or not re.fullmatch(r"[A-Za-z0-9+/=_-]+", value):
        return False
    if not (any(c.isupper() for c in value) and any(c.islower() for c in value) and any(c.isdigit() for c in value)):
        return False
    counts: dict[str, int] = {}
    for c in value:
        counts[c] = counts.get(c, 0) + 1
    entropy = -sum(n / len(value) * math.log2(n / len(value)) for n in counts.values())
    return entropy >= 4.0


def redact_annotations(annotations: dict, mark: str = REDACTED) -> None:
    """In place: values under secret-named keys, values that look like credentials, and
    credentials inside any other value."""
    for key, value in annotations.items():
        if not isinstance(value, str) or not value:
            continue
        last = key.rsplit("/", 1)[-1]
        if (secret_name(last) and _secret_value(value) and len(value) >= 8) or looks_secret(value):
            annotations[key] = mark
        else:
            cleaned = redact_text(value, mark)
            if cleaned is not value and cleaned != value:
                annotations[key] = cleaned


def redact_object(node: Any, mark: str = REDACTED) -> None:
    """In place, anywhere in a Kubernetes object (pods, workload templates, ClusterPolicy):
    `env` values, `command`/`args` lists and metadata annotations."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "env" and isinstance(value, list):
                for item in value:
                    if isinstance(item, dict) and "value" in item and item["value"] not in ("", None):
                        item["value"] = mark
            elif key in ("command", "args") and isinstance(value, list):
                node[key] = redact_args(value, mark)
            elif key == "metadata" and isinstance(value, dict) and isinstance(value.get("annotations"), dict):
                redact_annotations(value["annotations"], mark)
                redact_object(value, mark)
            else:
                redact_object(value, mark)
    elif isinstance(node, list):
        for item in node:
            redact_object(item, mark)
