"""Airflow on this machine, against the embedded Postgres: scheduler + DAG processor + API
server with the LocalExecutor. Airflow lives in a venv of its own (pinned in
orchestrate/requirements-airflow.txt, outside the workspace lock), cached per machine under
~/.cache/tapworks/ and keyed by that file, so it installs once.

    uv run devstack up                              # the embedded Postgres and sandboxes first
    uv run python orchestrate/airflow_local.py up   # http://127.0.0.1:8793, state in .local/airflow
    uv run python orchestrate/airflow_local.py down
"""

from __future__ import annotations

import argparse
import fcntl
import hashlib
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
REQUIREMENTS = ROOT / "orchestrate" / "requirements-airflow.txt"
PROCESSES = ("scheduler", "dag-processor", "api-server")


def venv_dir() -> Path:
    key = hashlib.sha256(REQUIREMENTS.read_bytes()).hexdigest()[:12]
    base = Path(os.environ.get("TAPWORKS_AIRFLOW_CACHE") or Path.home() / ".cache" / "tapworks")
    return base / f"airflow-venv-{key}"


def uv() -> str:
    local = ROOT / ".tools" / "bin" / "uv"
    found = str(local) if local.exists() else shutil.which("uv")
    if not found:
        raise SystemExit("airflow: uv is needed to install Airflow (./run installs it in .tools/)")
    return found


def install() -> Path:
    """The cached venv's `airflow`, installing it first if this machine has none yet."""
    venv = venv_dir()
    airflow = venv / "bin" / "airflow"
    venv.parent.mkdir(parents=True, exist_ok=True)
    with (venv.parent / "airflow-install.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # two sessions must not build the same venv
        if (venv / ".complete").exists():
            return airflow
        shutil.rmtree(venv, ignore_errors=True)
        subprocess.run([uv(), "venv", "--quiet", "--python", "3.11", str(venv)], check=True)
        subprocess.run(
            [uv(), "pip", "install", "--quiet", "--python", str(venv / "bin" / "python"),
             "-r", str(REQUIREMENTS)],
            check=True,
        )  # fmt: skip
        (venv / ".complete").touch()
    return airflow


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def settings(home: Path, metadata_url: str, port: int, dags_file: Path) -> dict[str, str]:
    """Airflow's configuration, all from the environment (no airflow.cfg to keep in sync)."""
    secret_file = home / "jwt-secret"
    if not secret_file.exists():
        home.mkdir(parents=True, exist_ok=True)
        secret_file.write_text(secrets.token_urlsafe(64))
        secret_file.chmod(0o600)
    return {
        "AIRFLOW_HOME": str(home),
        "AIRFLOW__CORE__DAGS_FOLDER": str(ROOT / "orchestrate" / "dags"),
        "AIRFLOW__CORE__EXECUTOR": "LocalExecutor",
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": metadata_url,
        "AIRFLOW__API__HOST": "127.0.0.1",
        "AIRFLOW__API__PORT": str(port),
        "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"http://127.0.0.1:{port}/execution/",
        # The scheduler's workers and the API server sign and check task tokens with it.
        "AIRFLOW__API_AUTH__JWT_SECRET": secret_file.read_text(),
        "AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL": "5",
        "AIRFLOW__SCHEDULER__ENABLE_HEALTH_CHECK": "False",
        # Local only: every UI user is an admin (SimpleAuthManager).
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_ALL_ADMINS": "True",
        "TAPWORKS_DAGS_FILE": str(dags_file),
        "TAPWORKS_ROOT": str(ROOT),
        "TAPWORKS_PYTHON": sys.executable,
    }


def airflow_cli(airflow: Path, env: dict[str, str], *args: str, timeout: float = 300) -> str:
    done = subprocess.run(
        [str(airflow), *args], env=env, capture_output=True, text=True, timeout=timeout, check=False
    )
    if done.returncode != 0:
        raise RuntimeError(
            f"airflow {' '.join(args)} failed:\n{done.stdout[-3000:]}{done.stderr[-3000:]}"
        )
    return done.stdout


def prepare(airflow: Path, env: dict[str, str], generate_args: tuple[str, ...] = ()) -> None:
    """Generate the DAG spec and pools, migrate the metadata database, import the pools, and
    migrate Meltano's system database: every `meltano run` migrates it when it starts, and the
    parallel first tasks on a new one would each try to create its tables."""
    home = Path(env["AIRFLOW_HOME"])
    meltano = str(Path(sys.executable).parent / "meltano")
    subprocess.run([meltano, "upgrade", "database"], cwd=ROOT, env=env, check=True)
    pools = home / "pools.json"
    subprocess.run(
        [sys.executable, str(ROOT / "orchestrate" / "generate.py"), "--out", env["TAPWORKS_DAGS_FILE"],
         "--pools-out", str(pools), *generate_args],
        check=True,
    )  # fmt: skip
    airflow_cli(airflow, env, "db", "migrate")
    airflow_cli(airflow, env, "pools", "import", str(pools))


def start(airflow: Path, env: dict[str, str], timeout: float = 120) -> None:
    """Start the scheduler, DAG processor and API server (pids and logs in AIRFLOW_HOME)."""
    home = Path(env["AIRFLOW_HOME"])
    for name in PROCESSES:
        with (home / f"{name}.log").open("ab") as log:
            process = subprocess.Popen(
                [str(airflow), name], env=env, stdout=log, stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL, start_new_session=True,
            )  # fmt: skip
        (home / f"{name}.pid").write_text(str(process.pid))
    url = f"http://127.0.0.1:{env['AIRFLOW__API__PORT']}/api/v2/monitor/health"
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=5):
                return
        except OSError:
            time.sleep(1)
    raise RuntimeError(
        f"Airflow's API server did not answer {url} within {timeout} s: see {home}/api-server.log"
    )


def gone(pid: int) -> bool:
    """Whether ``pid`` has exited. A child of this process (as in the tests) stays a zombie
    that signal 0 still reaches until it is reaped, so reap it first."""
    try:
        if os.waitpid(pid, os.WNOHANG)[0] == pid:
            return True
    except ChildProcessError:  # not our child: `down` from another shell
        pass
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    return False


def stop(home: Path) -> list[str]:
    """Stop what `start` started in ``home`` (each process group, by its recorded pid)."""
    stopped = []
    for name in PROCESSES:
        pid_file = home / f"{name}.pid"
        if not pid_file.exists():
            continue
        pid = int(pid_file.read_text())
        for sig in (signal.SIGTERM, signal.SIGKILL):
            try:
                os.killpg(pid, sig)
            except ProcessLookupError:
                break
            for _ in range(50):
                if gone(pid):
                    break
                time.sleep(0.2)
            else:
                continue
            break
        pid_file.unlink()
        stopped.append(name)
    return stopped


def local_env(port: int = 8793) -> dict[str, str]:
    """The dev stack's settings (.env that `devstack up` wrote) plus Airflow's."""
    from devstack import dotenv, postgres

    env = {**dotenv.read(ROOT / ".env"), **os.environ}
    host = env.get("TAPWORKS_PG_HOST")
    if not host:
        raise SystemExit("airflow: TAPWORKS_PG_HOST is not set: run `uv run devstack up` first")
    embedded = postgres.Embedded(Path(), Path(host), Path())
    postgres.create_databases(embedded, ("airflow",))
    metadata = embedded.url("airflow", driver="postgresql+psycopg2")
    home = ROOT / ".local" / "airflow"
    return {**env, **settings(home, metadata, port, home / "dags.json")}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Airflow against the embedded Postgres")
    parser.add_argument("command", choices=("install", "up", "down"))
    parser.add_argument("--port", type=int, default=8793, help="the API server's (and UI's) port")
    args = parser.parse_args(argv)
    if args.command == "install":
        print(install())
    elif args.command == "up":
        airflow = install()
        env = local_env(args.port)
        prepare(airflow, env)
        start(airflow, env)
        print(f"Airflow is up: http://127.0.0.1:{args.port} (logs in {env['AIRFLOW_HOME']})")
    else:
        stopped = stop(ROOT / ".local" / "airflow")
        print(f"stopped: {', '.join(stopped) or 'nothing was running'}")


if __name__ == "__main__":
    main()
