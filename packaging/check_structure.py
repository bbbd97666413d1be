"""Structural checks of the packaging files, run by packaging/check.

    python check_structure.py ROOT dockerfile
    python check_structure.py ROOT compose
    python check_structure.py ROOT unit
    python check_structure.py ROOT config SERVE_HELP_FILE
    python check_structure.py ROOT unit-args          # ExecStart's arguments
    python check_structure.py ROOT node-invocation    # a compose node's env and arguments

Each mode prints one line per finding, `ok: …` or `problem: …`, and exits 1
when there is a problem. Only the standard library, plus PyYAML for compose.
"""

from __future__ import annotations

import json
import os
import re
import sys
import tomllib
from pathlib import Path

problems: list[str] = []


def ok(text: str) -> None:
    print(f"ok: {text}")


def problem(text: str) -> None:
    problems.append(text)
    print(f"problem: {text}")


def expect(cond: bool, good: str, bad: str) -> bool:
    if cond:
        ok(good)
    else:
        problem(bad)
    return cond


# ---- Dockerfile and .dockerignore --------------------------------------------


def dockerfile_instructions(text: str) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) pairs, continuation lines joined, comments dropped."""
    out: list[tuple[str, str]] = []
    current = ""
    for raw in text.splitlines():
        line = raw.strip()
        if not current and (not line or line.startswith("#")):
            continue
        if current and line.startswith("#"):
            continue  # a comment inside a continued instruction
        if line.endswith("\\"):
            current += line[:-1] + " "
            continue
        current += line
        word, _, rest = current.strip().partition(" ")
        out.append((word.upper(), rest.strip()))
        current = ""
    return out


def ignore_regex(pattern: str) -> re.Pattern[str]:
    """A .dockerignore pattern as a regex on slash-separated relative paths."""
    p = pattern.strip().strip("/")
    rx, i = "", 0
    while i < len(p):
        c = p[i]
        if p.startswith("**/", i):
            rx += "(?:.*/)?"
            i += 3
            continue
        if p.startswith("**", i):
            rx += ".*"
            i += 2
            continue
        rx += {"*": "[^/]*", "?": "[^/]"}.get(c, re.escape(c))
        i += 1
    return re.compile(rx + r"\Z")


def dockerignore_rules(text: str) -> list[tuple[bool, re.Pattern[str]]]:
    rules = []
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        negate = line.startswith("!")
        rules.append((negate, ignore_regex(line.lstrip("!"))))
    return rules


def is_excluded(rules: list[tuple[bool, re.Pattern[str]]], path: str) -> bool:
    """Docker's rule: the last pattern matching the path or one of its parent
    folders decides."""
    parts = path.split("/")
    prefixes = ["/".join(parts[: i + 1]) for i in range(len(parts))]
    excluded = False
    for negate, rx in rules:
        if any(rx.match(p) for p in prefixes):
            excluded = not negate
    return excluded


def check_dockerfile(root: Path) -> None:
    path = root / "Dockerfile"
    instructions = dockerfile_instructions(path.read_text())
    froms = [i for i, (w, _) in enumerate(instructions) if w == "FROM"]
    if not expect(len(froms) >= 2, f"multi-stage: {len(froms)} stages", "the Dockerfile has fewer than 2 stages"):
        return
    build = instructions[froms[0] : froms[-1]]
    final = instructions[froms[-1] :]
    final_from = final[0][1].split()
    base = final_from[0]
    distroless = "distroless" in base

    # Build stage: the release binary of the wabiz package, with the lock file.
    runs = " ".join(a for w, a in build if w == "RUN")
    expect(
        "cargo build" in runs and "--release" in runs and "-p wabiz" in runs and "--locked" in runs,
        "the build stage runs cargo build --release --locked -p wabiz",
        "the build stage does not run `cargo build --release --locked -p wabiz`",
    )
    expect(
        "--mount=type=cache" in runs, "cargo's registry/target are cache mounts", "no BuildKit cache mount for cargo"
    )

    # What the build stage copies must exist and be in the build context.
    ignore_file = root / ".dockerignore"
    if not expect(ignore_file.is_file(), ".dockerignore exists", ".dockerignore is missing"):
        return
    rules = dockerignore_rules(ignore_file.read_text())
    for word, args in build:
        if word != "COPY" or "--from=" in args:
            continue
        srcs = [a for a in args.split() if not a.startswith("--")][:-1]
        for src in srcs:
            src = src.rstrip("/")
            expect((root / src).exists(), f"COPY source {src} exists", f"COPY source {src} does not exist")
            expect(
                not is_excluded(rules, src),
                f"COPY source {src} is in the build context",
                f"COPY source {src} is excluded by .dockerignore",
            )
    # Every source file cargo reads is sent; the bulky and private things are not.
    missing = []
    for top in ("crates", "build-support"):
        for dirpath, dirnames, filenames in os.walk(root / top, followlinks=True):
            dirnames[:] = [d for d in dirnames if d not in ("target", ".git", "__pycache__")]
            for name in filenames:
                rel = (Path(dirpath) / name).relative_to(root).as_posix()
                if is_excluded(rules, rel):
                    missing.append(rel)
    expect(
        not missing,
        "every file under crates/ and build-support/ is in the build context",
        f".dockerignore leaves out source files: {missing[:5]}",
    )
    for must_keep in ("Cargo.toml", "Cargo.lock"):
        expect(not is_excluded(rules, must_keep), f"{must_keep} is sent", f".dockerignore excludes {must_keep}")
    for must_drop in (
        "target/release/wabiz",
        ".git/HEAD",
        "wabiz-data/wabiz.db",
        "packaging/.env",
        "crates/x/target/y",
    ):
        expect(is_excluded(rules, must_drop), f"{must_drop} is not sent", f".dockerignore does not exclude {must_drop}")

    # Runtime stage.
    def final_args(word: str) -> list[str]:
        return [a for w, a in final if w == word]

    users = final_args("USER")
    if expect(
        bool(users), f"runtime USER {users[-1] if users else ''}", "the runtime stage sets no USER (runs as root)"
    ):
        user = users[-1].split(":")[0]
        expect(user not in ("root", "0"), "the runtime user is not root", f"the runtime user is root ({users[-1]})")
    checks = final_args("HEALTHCHECK")
    if expect(bool(checks), "HEALTHCHECK declared", "no HEALTHCHECK in the runtime stage"):
        hc = checks[-1]
        expect(
            "wabiz" in hc and "healthcheck" in hc and not hc.upper().startswith("NONE"),
            "HEALTHCHECK runs `wabiz healthcheck`",
            f"HEALTHCHECK does not run `wabiz healthcheck`: {hc}",
        )
        if distroless:
            m = re.search(r"\bCMD\s+(\[.*\])", hc)
            expect(
                m is not None,
                "HEALTHCHECK uses the exec form",
                "HEALTHCHECK uses the shell form (no shell in distroless)",
            )
    volumes = " ".join(final_args("VOLUME"))
    expect("/data" in re.findall(r"[^\s\"\[\],]+", volumes), "VOLUME /data", "no VOLUME /data")
    env: dict[str, str] = {}
    for args in final_args("ENV"):
        for m in re.finditer(r"(\w+)=(\"[^\"]*\"|\S+)", args):
            env[m.group(1)] = m.group(2).strip('"')
    expect(env.get("WABIZ_DATA_DIR") == "/data", "ENV WABIZ_DATA_DIR=/data", "ENV WABIZ_DATA_DIR is not /data")
    expect(
        env.get("WABIZ_LISTEN") == "0.0.0.0:9090",
        "ENV WABIZ_LISTEN=0.0.0.0:9090",
        "ENV WABIZ_LISTEN is not 0.0.0.0:9090",
    )
    expect("9090" in " ".join(final_args("EXPOSE")).split(), "EXPOSE 9090", "no EXPOSE 9090")

    def exec_form(word: str) -> list[str] | None:
        vals = final_args(word)
        if not vals:
            return None
        try:
            v = json.loads(vals[-1])
        except json.JSONDecodeError:
            return None
        return v if isinstance(v, list) else None

    entry = exec_form("ENTRYPOINT")
    expect(
        entry is not None and entry[:1] in (["wabiz"], ["/usr/local/bin/wabiz"]),
        f"ENTRYPOINT {entry}",
        'ENTRYPOINT is not the exec form ["wabiz"]',
    )
    expect(exec_form("CMD") == ["serve"], 'CMD ["serve"]', 'CMD is not ["serve"]')
    if distroless:
        shell_runs = final_args("RUN")
        expect(
            not shell_runs, "no RUN in the shell-less runtime stage", "RUN in a distroless stage (there is no shell)"
        )
        expect(
            any("--chown=" in a and "/data" in a for a in final_args("COPY")),
            "/data is copied in owned by the runtime user",
            "/data is not created owned by the runtime user (a new volume would be root's)",
        )
    expect(
        any("--from=" in a and "wabiz" in a for a in final_args("COPY")),
        "the runtime stage takes the binary from the build stage",
        "the runtime stage does not copy the binary from the build stage",
    )


# ---- compose.yaml ------------------------------------------------------------


def interpolated(value: str) -> bool:
    return bool(re.fullmatch(r"\$\{[A-Za-z_][A-Za-z0-9_]*(:?[-?][^}]*)?\}", value))


def as_list(command: object) -> list[str]:
    if isinstance(command, list):
        return [str(c) for c in command]
    if isinstance(command, str):
        return command.split()
    return []


def env_dict(service: dict) -> dict[str, str]:
    env = service.get("environment") or {}
    if isinstance(env, list):
        return dict(e.split("=", 1) if "=" in e else (e, "") for e in env)
    return {str(k): str(v) for k, v in env.items()}


def volume_mounts(service: dict) -> dict[str, str]:
    """Target → source of the service's volumes (short or long syntax)."""
    out = {}
    for v in service.get("volumes") or []:
        if isinstance(v, str):
            parts = v.split(":")
            if len(parts) >= 2:
                out[parts[1]] = parts[0]
        elif isinstance(v, dict):
            out[str(v.get("target"))] = str(v.get("source"))
    return out


def option(args: list[str], name: str) -> str | None:
    for i, a in enumerate(args):
        if a.startswith(name + "="):
            return a.split("=", 1)[1]
        if a == name and i + 1 < len(args):
            return args[i + 1]
    return None


def caddy_upstreams(text: str) -> list[str]:
    ups: list[str] = []
    for line in text.splitlines():
        line = line.split("#", 1)[0].strip()
        if line.startswith("reverse_proxy "):
            ups += [u for u in line.split()[1:] if u != "{"]
    return ups


def check_compose(root: Path) -> None:
    import yaml  # PyPI: pyyaml

    pkg = root / "packaging"
    doc = yaml.safe_load((pkg / "compose.yaml").read_text())
    services: dict = doc.get("services") or {}
    expect(bool(services), f"{len(services)} services", "no services")

    # PostgreSQL 15 with a health check.
    pgs = {n: s for n, s in services.items() if str(s.get("image", "")).startswith("postgres:")}
    if not expect(len(pgs) == 1, f"one PostgreSQL service ({', '.join(pgs)})", "not exactly one postgres: service"):
        return
    pg_name, pg = next(iter(pgs.items()))
    expect(str(pg["image"]).startswith("postgres:15"), f"image {pg['image']}", f"PostgreSQL is not 15: {pg['image']}")
    expect(
        bool((pg.get("healthcheck") or {}).get("test")),
        "PostgreSQL has a health check",
        "PostgreSQL has no health check",
    )
    expect(not pg.get("ports"), "PostgreSQL publishes no port", "PostgreSQL publishes a port")
    pg_env = env_dict(pg)
    expect(
        interpolated(pg_env.get("POSTGRES_PASSWORD", "")),
        "POSTGRES_PASSWORD comes from the environment",
        "POSTGRES_PASSWORD is written in the file",
    )

    # The wabiz nodes.
    nodes = {
        n: s for n, s in services.items() if "wabiz" in str(s.get("image", "")) or (s.get("build") and n != pg_name)
    }
    expect(len(nodes) >= 2, f"{len(nodes)} wabiz nodes: {', '.join(nodes)}", "fewer than 2 wabiz nodes")
    roles, databases, shared, own = [], set(), [], []
    listen_ports = set()
    for name, node in nodes.items():
        build = node.get("build")
        if isinstance(build, dict):
            context = (pkg / str(build.get("context", "."))).resolve()
            dockerfile = context / str(build.get("dockerfile", "Dockerfile"))
            expect(
                dockerfile.is_file(),
                f"{name}: builds {dockerfile.relative_to(root.resolve())}",
                f"{name}: no {dockerfile}",
            )
        args = as_list(node.get("command"))
        env = env_dict(node)
        expect(args[:1] == ["serve"], f"{name}: runs serve", f"{name}: command does not start with serve: {args}")
        multi = "--multiconnect" in args or env.get("WABIZ_MULTICONNECT") in ("true", "1")
        expect(multi, f"{name}: --multiconnect", f"{name}: not --multiconnect")
        role = option(args, "--role") or env.get("WABIZ_ROLE") or "all"
        expect(role in ("all", "master", "coreapp", "webapp"), f"{name}: role {role}", f"{name}: unknown role {role}")
        roles.append(role)
        db = option(args, "--database") or env.get("WABIZ_DATABASE", "")
        databases.add(db)
        m = re.match(r"postgres(?:ql)?://([^:@/]+)(?::([^@]*))?@([^:/]+)(?::\d+)?/\w+", db)
        if expect(m is not None, f"{name}: a postgres:// database", f"{name}: database is not postgres://: {db!r}"):
            expect(m.group(3) == pg_name, f"{name}: database host {pg_name}", f"{name}: database host is not {pg_name}")
            password = m.group(2)
            expect(
                password is None or interpolated(password),
                f"{name}: the database password comes from the environment",
                f"{name}: a database password is written in the file",
            )
        deps = node.get("depends_on") or {}
        condition = deps.get(pg_name, {}).get("condition") if isinstance(deps, dict) else None
        expect(
            condition == "service_healthy",
            f"{name}: waits for {pg_name} to be healthy",
            f"{name}: does not wait for {pg_name} (depends_on … condition: service_healthy)",
        )
        mounts = volume_mounts(node)
        shared.append(mounts.get("/data/media"))
        own.append(mounts.get("/data"))
        expect(not node.get("ports"), f"{name}: publishes no port (behind the proxy)", f"{name}: publishes a port")
        test = as_list((node.get("healthcheck") or {}).get("test"))
        expect(
            "wabiz" in test and "healthcheck" in test,
            f"{name}: health check is `wabiz healthcheck`",
            f"{name}: health check is not `wabiz healthcheck`: {test}",
        )
        url = option(test, "--url") or "https://127.0.0.1:9090/"
        listen = option(args, "--listen") or env.get("WABIZ_LISTEN") or "0.0.0.0:9090"
        port = listen.rsplit(":", 1)[1]
        listen_ports.add(port)
        scheme = "http" if "--insecure-http" in args else "https"
        expect(
            url.startswith(f"{scheme}://") and f":{port}/" in url,
            f"{name}: health check asks {url}",
            f"{name}: health check URL {url} does not match the node ({scheme}, port {port})",
        )
    expect(len(databases) == 1, "all nodes share one database", f"the nodes use different databases: {databases}")
    expect(
        len(set(shared)) == 1 and shared[0] is not None,
        f"all nodes share the media volume {shared[0]!r} at /data/media",
        f"the nodes do not share one volume at /data/media: {shared}",
    )
    expect(
        None not in own and len(set(own)) == len(own),
        "each node has its own /data volume",
        f"the nodes' /data volumes are missing or shared: {own}",
    )
    expect(
        any(r in ("all", "master") for r in roles) and any(r in ("all", "coreapp") for r in roles),
        "some node can be master and some node can own a shard",
        f"roles {roles} leave no master or no shard owner",
    )
    hostnames = [n.get("hostname") for n in nodes.values()]
    expect(
        None not in hostnames and len(set(hostnames)) == len(hostnames),
        "each node has its own host name (node id)",
        f"node host names missing or repeated: {hostnames}",
    )

    # The proxy and its configuration.
    proxies = {
        n: s
        for n, s in services.items()
        if n not in nodes and n != pg_name and volume_mounts(s).get("/etc/caddy/Caddyfile")
    }
    if expect(len(proxies) == 1, f"a Caddy proxy ({', '.join(proxies)})", "no service mounts a Caddyfile"):
        pname, proxy = next(iter(proxies.items()))
        source = volume_mounts(proxy)["/etc/caddy/Caddyfile"]
        caddyfile = (pkg / source).resolve()
        if expect(caddyfile.is_file(), f"{pname}: mounts {source}", f"{pname}: {source} does not exist"):
            ups = caddy_upstreams(caddyfile.read_text())
            want = {f"{n}:{p}" for n in nodes for p in listen_ports}
            expect(
                set(ups) == want,
                f"the proxy balances over every node: {' '.join(ups)}",
                f"the proxy's upstreams {ups} are not the nodes {sorted(want)}",
            )
        expect(bool(proxy.get("ports")), f"{pname}: publishes the entry point", f"{pname}: publishes no port")

    # Named volumes are declared; every variable used has a placeholder in env.example.
    declared = set((doc.get("volumes") or {}).keys())
    used = {src for s in services.values() for src in volume_mounts(s).values() if not src.startswith((".", "/"))}
    expect(used <= declared, "every named volume is declared", f"undeclared volumes: {sorted(used - declared)}")
    text = (pkg / "compose.yaml").read_text()
    variables = set(re.findall(r"\$\{([A-Za-z_][A-Za-z0-9_]*)", text))
    example = pkg / "env.example"
    if expect(example.is_file(), "env.example exists", "packaging/env.example is missing"):
        given = set(re.findall(r"^([A-Za-z_][A-Za-z0-9_]*)=", example.read_text(), re.MULTILINE))
        expect(
            variables <= given,
            f"env.example names every variable ({', '.join(sorted(variables))})",
            f"env.example lacks {sorted(variables - given)}",
        )
    for s_name, s in services.items():
        for k, v in env_dict(s).items():
            if re.search(r"PASSWORD|SECRET|TOKEN|API_KEY|PIN", k) and k != "WABIZ_DATABASE":
                expect(interpolated(v), f"{s_name}: {k} from the environment", f"{s_name}: {k} is written in the file")


# ---- wabiz.service ------------------------------------------------------------


def unit_entries(text: str) -> dict[str, list[str]]:
    entries: dict[str, list[str]] = {}
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith(("#", ";", "[")):
            continue
        key, _, value = line.partition("=")
        entries.setdefault(key.strip(), []).append(value.strip())
    return entries


def check_unit(root: Path) -> None:
    e = unit_entries((root / "packaging" / "wabiz.service").read_text())

    def last(key: str) -> str | None:
        return e[key][-1] if key in e else None

    required = {
        "Type": "simple",
        "Restart": "on-failure",
        "NoNewPrivileges": "yes",
        "ProtectSystem": "strict",
        "ProtectHome": "yes",
        "PrivateTmp": "yes",
        "PrivateDevices": "yes",
        "ProtectKernelTunables": "yes",
        "ProtectKernelModules": "yes",
        "ProtectKernelLogs": "yes",
        "ProtectControlGroups": "yes",
        "RestrictAddressFamilies": "AF_INET AF_INET6 AF_UNIX",
        "CapabilityBoundingSet": "",
        "MemoryDenyWriteExecute": "yes",
        "StateDirectory": "wabiz",
        "EnvironmentFile": "-/etc/wabiz/env",
    }
    for key, value in required.items():
        expect(last(key) == value, f"{key}={value}", f"{key} is {last(key)!r}, not {value!r}")
    expect(
        "@system-service" in (e.get("SystemCallFilter") or []),
        "SystemCallFilter=@system-service",
        "no SystemCallFilter=@system-service",
    )
    dynamic = last("DynamicUser") == "yes"
    user = last("User")
    expect(
        dynamic or (user not in (None, "root", "0")),
        f"runs as {'a dynamic user' if dynamic else user}",
        "runs as root (set DynamicUser=yes or User=)",
    )
    start = last("ExecStart") or ""
    args = start.split()
    expect(
        args[:2] == ["/usr/local/bin/wabiz", "serve"],
        "ExecStart=/usr/local/bin/wabiz serve …",
        f"ExecStart is {start!r}",
    )
    data_dir = option(args, "--data-dir")
    expect(
        data_dir == f"/var/lib/{last('StateDirectory')}",
        f"--data-dir {data_dir} is the StateDirectory",
        f"--data-dir {data_dir} is not /var/lib/<StateDirectory>",
    )
    config = option(args, "--config")
    if config is not None:
        expect(
            config == "/etc/wabiz/wabiz.toml" and (root / "packaging" / "wabiz.toml.example").is_file(),
            f"--config {config}, example in packaging/wabiz.toml.example",
            f"--config {config} has no example file",
        )


# ---- wabiz.toml.example --------------------------------------------------------


def serve_options(help_text: str) -> dict[str, bool]:
    """Long option → whether it is a switch, from `wabiz serve --help`."""
    out = {}
    for m in re.finditer(r"^\s+(?:-\w, )?--([a-z0-9-]+)( <[^>]+>)?", help_text, re.MULTILINE):
        out[m.group(1)] = m.group(2) is None
    for name in ("help", "version", "config"):
        out.pop(name, None)
    return out


def list_options(help_text: str) -> set[str]:
    """The options whose value is a LIST: a config file may give an array of strings."""
    return set(re.findall(r"^\s+(?:-\w, )?--([a-z0-9-]+) <LIST>", help_text, re.MULTILINE))


def check_config(root: Path, help_file: Path) -> None:
    path = root / "packaging" / "wabiz.toml.example"
    text = path.read_text()
    options = serve_options(help_file.read_text())
    lists = list_options(help_file.read_text())
    expect(
        len(options) > 10, f"`wabiz serve --help` lists {len(options)} options", "cannot read the options from --help"
    )
    try:
        active = tomllib.loads(text)
    except tomllib.TOMLDecodeError as err:
        problem(f"wabiz.toml.example is not TOML: {err}")
        return
    commented = {}
    for line in text.splitlines():
        m = re.match(r"^#\s*([a-z][a-z0-9_-]*)\s*=\s*(.+?)\s*(?:#.*)?$", line)
        if m:
            try:
                commented.update(tomllib.loads(f"{m.group(1)} = {m.group(2)}"))
            except tomllib.TOMLDecodeError as err:
                problem(f"commented example `{line.strip()}` is not TOML: {err}")
    keys = {**commented, **active}
    for key, value in keys.items():
        name = key.replace("_", "-")
        state = "set" if key in active else "commented"
        if not expect(
            name in options, f"{state} key {key} is an option", f"{state} key {key} is not a `wabiz serve` option"
        ):
            continue
        switch = options[name]
        is_list = isinstance(value, list) and name in lists and all(isinstance(v, str) for v in value)
        right_type = (
            isinstance(value, bool)
            if switch
            else is_list or (isinstance(value, (str, int, float)) and not isinstance(value, bool))
        )
        expect(
            right_type, f"{key} has a {'boolean' if switch else 'value'}", f"{key}: wrong type {type(value).__name__}"
        )
    expect(bool(active), f"{len(active)} key(s) set: {', '.join(active)}", "no key is set")


# ---- command lines for the binary ---------------------------------------------


def unit_args(root: Path) -> None:
    """The unit's ExecStart after the program, one argument a line."""
    e = unit_entries((root / "packaging" / "wabiz.service").read_text())
    for arg in e["ExecStart"][-1].split()[1:]:
        print(arg)


def interpolate(value: str, variables: dict[str, str]) -> str:
    """Compose's ${VAR}, ${VAR:-default} and ${VAR:?message}."""

    def one(m: re.Match[str]) -> str:
        name, op, rest = m.group(1), m.group(2) or "", m.group(3) or ""
        if name in variables and (variables[name] or ":" not in op):
            return variables[name]
        return rest if op.endswith("-") else ""

    return re.sub(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(:?[-?])?([^}]*)\}", one, value)


def node_invocation(root: Path, node_name: str | None) -> None:
    """A compose node's environment (`K=V` lines), `--`, then its arguments,
    with the variables of env.example and the image's ENV."""
    import yaml  # PyPI: pyyaml

    pkg = root / "packaging"
    variables = dict(re.findall(r"^([A-Za-z_][A-Za-z0-9_]*)=(.*)$", (pkg / "env.example").read_text(), re.MULTILINE))
    services = yaml.safe_load((pkg / "compose.yaml").read_text())["services"]
    name = node_name or next(n for n, s in services.items() if "wabiz" in str(s.get("image", "")))
    node = services[name]
    for k, v in env_dict(node).items():
        print(f"{k}={interpolate(v, variables)}")
    print("--")
    for arg in as_list(node.get("command")):
        print(interpolate(arg, variables))


def main() -> int:
    if len(sys.argv) < 3:
        print(__doc__)
        return 2
    root, mode = Path(sys.argv[1]), sys.argv[2]
    if mode == "dockerfile":
        check_dockerfile(root)
    elif mode == "compose":
        check_compose(root)
    elif mode == "unit":
        check_unit(root)
    elif mode == "config":
        check_config(root, Path(sys.argv[3]))
    elif mode == "unit-args":
        unit_args(root)
    elif mode == "node-invocation":
        node_invocation(root, sys.argv[3] if len(sys.argv) > 3 else None)
    else:
        print(__doc__)
        return 2
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
