"""`gputui completion bash|zsh|fish`: shell completion scripts, and the hidden `gputui __complete`
they call.

The scripts are thin: each asks `gputui __complete -- WORD... CURRENT` for the candidates,
one per line. That command walks the real argument parser, so subcommands and options never
drift from what gputui accepts, and fills in values: choices, kubeconfig contexts, check codes,
scenarios, and node, NodePool and namespace names read from the cluster with a short timeout.
Any failure prints nothing: a completion must never show an error or hang the shell.
"""

from __future__ import annotations

import argparse
import sys

SHELLS = ("bash", "zsh", "fish")
# Reading names from the cluster while the user waits at a prompt: short, and then nothing.
CLUSTER_TIMEOUT = 2.0

_BASH = r"""# bash completion for gputui; load with: source <(gputui completion bash)
_gputui_complete() {
    local IFS=$'\n'
    COMPREPLY=()
    mapfile -t COMPREPLY < <(command gputui __complete -- "${COMP_WORDS[@]:1:COMP_CWORD}" 2>/dev/null)
}
complete -o default -o nosort -F _gputui_complete gputui kubectl-gputui 2>/dev/null \
    || complete -o default -F _gputui_complete gputui kubectl-gputui
"""

_ZSH = r"""#compdef gputui kubectl-gputui
# zsh completion for gputui; load with: source <(gputui completion zsh)
_gputui() {
    local -a candidates
    candidates=("${(@f)$(command gputui __complete -- "${(@)words[2,CURRENT]}" 2>/dev/null)}")
    if (( ${#candidates} )) && [[ -n "${candidates[1]}" ]]; then
        compadd -Q -- "${candidates[@]}"
    else
        _files
    fi
}
if (( $+functions[compdef] )); then
    compdef _gputui gputui kubectl-gputui
fi
"""

_FISH = r"""# fish completion for gputui; load with: gputui completion fish | source
function __gputui_complete
    set -l words (commandline -opc) (commandline -ct)
    command gputui __complete -- $words[2..-1] 2>/dev/null
end
complete -c gputui -f -a '(__gputui_complete)'
complete -c kubectl-gputui -f -a '(__gputui_complete)'
"""

SCRIPTS = {"bash": _BASH, "zsh": _ZSH, "fish": _FISH}


def register(sub) -> None:
    p = sub.add_parser(
        "completion",
        help="print a shell completion script (bash, zsh, fish)",
        description="Print a completion script. bash: `source <(gputui completion bash)` (or save it to "
        "~/.local/share/bash-completion/completions/gputui); zsh: `source <(gputui completion zsh)`; "
        "fish: `gputui completion fish > ~/.config/fish/completions/gputui.fish`.",
    )
    p.add_argument("shell", choices=SHELLS)
    p.set_defaults(func=run_completion)
    # Without help=, argparse leaves it out of `gputui --help`: the scripts call it, people do not.
    q = sub.add_parser("__complete")
    q.add_argument("--kubectl", action="store_true", help="answer as kubectl's plugin completion expects")
    q.add_argument("words", nargs=argparse.REMAINDER)
    q.set_defaults(func=run_complete)


def run_completion(args: argparse.Namespace) -> int:
    sys.stdout.write(SCRIPTS[args.shell])
    return 0


def run_complete(args: argparse.Namespace) -> int:
    """The candidates, one per line; as `kubectl_complete-gputui`, then cobra's directive line
    (4: no file names, 0: the shell's default, file names)."""
    words = list(args.words or [])
    if words[:1] == ["--"]:
        words = words[1:]
    found: list[str] = []
    try:
        found = candidates(args.build_parser(), words, scenarios=args.scenario_names)
    except Exception:  # noqa: BLE001 - a completion prints nothing rather than an error
        pass
    for c in found:
        print(c)
    if args.kubectl:
        print(":4" if found else ":0")
    return 0


# -- what to offer ------------------------------------------------------------------------------


def candidates(parser: argparse.ArgumentParser, words: list[str], scenarios=lambda: []) -> list[str]:
    """What may come next: `words` are the words after the program name, the last one the
    (possibly empty) word being completed."""
    current = words[-1] if words else ""
    p, expect, positional = parser, None, 0
    given: dict = {}
    for w in words[:-1]:
        if expect is not None:
            given[expect.dest] = w
            expect = None
            continue
        if w.startswith("-") and w != "-":
            name, eq, value = w.partition("=")
            action = p._option_string_actions.get(name)  # noqa: SLF001 - argparse has no public lookup
            if action is not None and action.nargs != 0:
                if eq:
                    given[action.dest] = value
                else:
                    expect = action
            continue
        sub = _subcommands(p)
        if sub is not None and w in sub.choices:
            p, positional = sub.choices[w], 0
            continue
        positional += 1
    given["_scenarios"] = scenarios
    if expect is not None:
        return _matching(_values(expect, given), current)
    if current.startswith("-"):
        options = [o for a in p._actions if a.help != argparse.SUPPRESS for o in a.option_strings]  # noqa: SLF001
        return _matching(options, current)
    out: list[str] = []
    sub = _subcommands(p)
    if sub is not None:
        out += [name for name in sub.choices if not name.startswith("_")]
    positionals = [a for a in p._actions if not a.option_strings and not isinstance(a, argparse._SubParsersAction)]  # noqa: SLF001
    if positionals:
        action = positionals[min(positional, len(positionals) - 1)]
        if positional < len(positionals) or action.nargs in ("*", "+"):
            out += _values(action, given)
    return _matching(out, current)


def _subcommands(p: argparse.ArgumentParser) -> argparse._SubParsersAction | None:  # noqa: SLF001
    return next((a for a in p._actions if isinstance(a, argparse._SubParsersAction)), None)  # noqa: SLF001


def _matching(values: list[str], prefix: str) -> list[str]:
    return list(dict.fromkeys(v for v in values if v.startswith(prefix)))


def _values(action: argparse.Action, given: dict) -> list[str]:
    """Values for an option or positional, by what it names."""
    if action.choices:
        return [str(c) for c in action.choices]
    dest = action.dest
    if dest == "context":
        return contexts(given.get("kubeconfig"))
    if dest in ("checks", "code"):
        from gputui.report.catalogue import all_checks

        return [x for c in all_checks() for x in (c.code, c.name)]
    if dest in ("scenario", "sources", "from_paths"):
        return list(given["_scenarios"]())
    if dest in ("nodes", "node"):
        return cluster_names("/api/v1/nodes", given)
    if dest in ("nodepools", "nodepool") or (dest == "name" and not action.option_strings):
        return cluster_names("/apis/karpenter.sh/v1/nodepools", given) or cluster_names(
            "/apis/karpenter.sh/v1beta1/nodepools", given
        )
    if dest == "namespace":
        return cluster_names("/api/v1/namespaces", given)
    return []  # files and free text: the shell completes file names


def contexts(kubeconfig: str | None = None) -> list[str]:
    """The context names of the kubeconfig files kubectl would read."""
    import yaml

    from gputui.kube.config import kubeconfig_paths

    names: list[str] = []
    try:
        paths = kubeconfig_paths(kubeconfig)
    except Exception:  # noqa: BLE001
        return names
    for path in paths:
        try:
            doc = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        except (OSError, yaml.YAMLError):
            continue
        names += [str(c["name"]) for c in doc.get("contexts") or [] if isinstance(c, dict) and c.get("name")]
    return sorted(set(names))


def cluster_names(path: str, given: dict) -> list[str]:
    """Names of the objects at `path` (one list request, CLUSTER_TIMEOUT); nothing on any failure."""
    try:
        from gputui.kube.client import connect

        kube = connect(given.get("kubeconfig"), given.get("context"), None, CLUSTER_TIMEOUT)
        items = kube.request("GET", path, query={"limit": 1000}).json().get("items") or []
    except Exception:  # noqa: BLE001
        return []
    return sorted(i["metadata"]["name"] for i in items if (i.get("metadata") or {}).get("name"))
