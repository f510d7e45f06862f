"""deploy/ checked with real parsers: the Kubernetes manifests against the official JSON schemas
(kubernetes-validate bundles them, offline), the compose file against the compose-spec schema
(vendored in deploy/schemas/), the Dockerfile with dockerfile-parse, the systemd units with
``systemd-analyze verify`` (configparser where systemd is not installed), and every environment
variable a manifest sets against the ones config/settings.py reads."""

from __future__ import annotations

import ast
import configparser
import json
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml
from dockerfile_parse import DockerfileParser
from kubernetes_validate import utils as k8s

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
K8S = DEPLOY / "k8s"
SYSTEMD = DEPLOY / "systemd"
KUBERNETES_VERSION = "1.30"
IMAGE_UID = "10001"

K8S_FILES = sorted(p for p in K8S.glob("*.yaml") if p.name != "kustomization.yaml")
UNITS = sorted(SYSTEMD.glob("*.service"))

# Read by config/settings.py and required there when DJANGO_ENV=production.
REQUIRED = {
    "SECRET_KEY",
    "ALLOWED_HOSTS",
    "DATABASE_URL",
    "REDIS_URL",
    "ID_NUMBER_KEYS",
    "ID_NUMBER_DIGEST_KEY",
    "PUBLIC_BASE_URL",
}
# Read by something other than config/settings.py: deploy/gunicorn.conf.py, deploy/healthcheck.py,
# the units' own command lines, Python itself and the postgres image.
NOT_SETTINGS = {
    "PORT",
    "WEB_CONCURRENCY",
    "GUNICORN_THREADS",
    "GUNICORN_TIMEOUT",
    "FORWARDED_ALLOW_IPS",
    "HEALTHCHECK_HOST",
    "CELERY_CONCURRENCY",
    "PYTHONUNBUFFERED",
    "PYTHONDONTWRITEBYTECODE",
    "PATH",
}


def _documents(path: Path) -> list[dict[str, Any]]:
    with path.open(encoding="utf-8") as fh:
        return [doc for doc in yaml.safe_load_all(fh) if doc is not None]


def _k8s_documents() -> list[dict[str, Any]]:
    return [doc for path in K8S_FILES for doc in _documents(path)]


def settings_variables() -> set[str]:
    """Every variable name config/settings.py reads (``env.<type>("NAME"``, ``_required("NAME"``)."""
    tree = ast.parse((ROOT / "config" / "settings.py").read_text(encoding="utf-8"))
    names = set()
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call) or not node.args:
            continue
        first = node.args[0]
        if not (isinstance(first, ast.Constant) and isinstance(first.value, str)):
            continue
        func = node.func
        from_env = (
            isinstance(func, ast.Attribute)
            and isinstance(func.value, ast.Name)
            and func.value.id == "env"
        )
        if from_env or (isinstance(func, ast.Name) and func.id == "_required"):
            names.add(first.value)
    return names


def _containers(doc: dict[str, Any]) -> list[dict[str, Any]]:
    spec = doc.get("spec", {})
    pod = spec.get("jobTemplate", {}).get("spec", spec).get("template", {}).get("spec", {})
    return pod.get("containers", [])


# --- Kubernetes ------------------------------------------------------------------------------------


def test_k8s_manifests_exist() -> None:
    kinds = {(doc["kind"], doc["metadata"]["name"]) for doc in _k8s_documents()}
    assert {
        ("Deployment", "yibao-web"),
        ("Service", "yibao-web"),
        ("HorizontalPodAutoscaler", "yibao-web"),
        ("Deployment", "yibao-worker"),
        ("Deployment", "yibao-beat"),
        ("ConfigMap", "yibao-config"),
        ("Secret", "yibao-secrets"),
        ("Job", "yibao-migrate"),
    } <= kinds


@pytest.mark.parametrize("path", K8S_FILES, ids=lambda p: p.name)
def test_k8s_manifest_matches_the_official_schema(path: Path) -> None:
    for doc in _documents(path):
        # strict: unknown fields (a typo in a key) are errors too.
        k8s.validate(doc, KUBERNETES_VERSION, strict=True)


def test_the_k8s_validator_refuses_a_broken_manifest() -> None:
    doc = next(d for d in _k8s_documents() if d["metadata"]["name"] == "yibao-web")
    broken = json.loads(json.dumps(doc))
    broken["spec"]["replicas"] = "two"
    with pytest.raises(k8s.ValidationError):
        k8s.validate(broken, KUBERNETES_VERSION, strict=True)
    broken = json.loads(json.dumps(doc))
    broken["spec"]["template"]["spec"]["containers"][0]["livenesProbe"] = {}
    with pytest.raises(k8s.ValidationError):
        k8s.validate(broken, KUBERNETES_VERSION, strict=True)


def test_kustomization_lists_every_manifest_but_the_job() -> None:
    (kustomization,) = _documents(K8S / "kustomization.yaml")
    assert set(kustomization["resources"]) == {
        p.name for p in K8S_FILES if p.name != "migrate-job.yaml"
    }


def test_web_probes_autoscaler_and_beat() -> None:
    docs = {(d["kind"], d["metadata"]["name"]): d for d in _k8s_documents()}
    (web,) = _containers(docs["Deployment", "yibao-web"])
    assert web["livenessProbe"]["httpGet"]["path"] == "/healthz"
    assert web["readinessProbe"]["httpGet"]["path"] == "/readyz"
    config = docs["ConfigMap", "yibao-config"]["data"]
    for probe in ("startupProbe", "livenessProbe", "readinessProbe"):
        (host,) = web[probe]["httpGet"]["httpHeaders"]
        # Django answers 400 to a Host outside ALLOWED_HOSTS.
        assert host["value"] in config["ALLOWED_HOSTS"].split(",")
    hpa = docs["HorizontalPodAutoscaler", "yibao-web"]["spec"]
    assert hpa["scaleTargetRef"]["name"] == "yibao-web"
    assert hpa["minReplicas"] >= 2
    beat = docs["Deployment", "yibao-beat"]["spec"]
    assert beat["replicas"] == 1
    assert beat["strategy"]["type"] == "Recreate"
    (beat_container,) = _containers(docs["Deployment", "yibao-beat"])
    assert beat_container["command"][:4] == ["celery", "-A", "config", "beat"]
    (job,) = _containers(docs["Job", "yibao-migrate"])
    assert job["command"] == ["python", "manage.py", "migrate", "--noinput"]


def test_k8s_containers_run_unprivileged_from_one_image() -> None:
    images = set()
    for doc in _k8s_documents():
        if doc["kind"] not in {"Deployment", "Job"}:
            continue
        pod = doc["spec"]["template"]["spec"]
        assert pod["securityContext"]["runAsNonRoot"] is True
        assert str(pod["securityContext"]["runAsUser"]) == IMAGE_UID
        for container in _containers(doc):
            images.add(container["image"])
            assert container["securityContext"]["allowPrivilegeEscalation"] is False
            assert container["securityContext"]["readOnlyRootFilesystem"] is True
            refs = {next(iter(ref.values()))["name"] for ref in container.get("envFrom", [])}
            assert refs == {"yibao-config", "yibao-secrets"}, doc["metadata"]["name"]
    assert len(images) == 1


# --- compose ---------------------------------------------------------------------------------------


def _compose() -> dict[str, Any]:
    (doc,) = _documents(DEPLOY / "compose.yaml")
    return doc


def _compose_validator() -> jsonschema.protocols.Validator:
    schema = json.loads((DEPLOY / "schemas" / "compose-spec.json").read_text(encoding="utf-8"))
    # The file declares draft 2019-09 (as "http://...schema#", a spelling jsonschema does not map).
    assert "2019-09" in schema["$schema"]
    jsonschema.Draft201909Validator.check_schema(schema)
    return jsonschema.Draft201909Validator(schema)


def test_compose_matches_the_compose_spec_schema() -> None:
    errors = sorted(_compose_validator().iter_errors(_compose()), key=str)
    assert not errors, "\n".join(f"{list(e.absolute_path)}: {e.message}" for e in errors)


def test_the_compose_validator_refuses_a_broken_file() -> None:
    broken = _compose()
    broken["services"]["web"]["healthcheck"]["retries"] = "three"
    broken["services"]["web"]["restart_policy"] = "always"
    assert len(list(_compose_validator().iter_errors(broken))) >= 2


def test_compose_services_volumes_and_health_checks() -> None:
    services = _compose()["services"]
    assert {"web", "worker", "beat", "postgres", "redis", "migrate"} <= set(services)
    for name in ("web", "worker", "postgres", "redis"):
        assert "test" in services[name]["healthcheck"], name
    assert services["postgres"]["volumes"] == ["pgdata:/var/lib/postgresql/data"]
    assert services["redis"]["volumes"] == ["redisdata:/data"]
    for name in ("web", "worker", "beat"):
        depends = services[name]["depends_on"]
        assert depends["postgres"]["condition"] == "service_healthy"
        assert depends["redis"]["condition"] == "service_healthy"
        assert depends["migrate"]["condition"] == "service_completed_successfully"
    assert services["beat"]["command"][:4] == ["celery", "-A", "config", "beat"]


# --- Dockerfile ------------------------------------------------------------------------------------


def _dockerfile() -> DockerfileParser:
    parser = DockerfileParser(fileobj=(DEPLOY / "Dockerfile").open("rb"))
    return parser


def test_dockerfile_is_multi_stage_non_root_with_healthcheck() -> None:
    parser = _dockerfile()
    instructions = parser.structure
    froms = [i["value"] for i in instructions if i["instruction"] == "FROM"]
    assert len(froms) >= 2, "multi-stage"
    assert froms[0].endswith(" AS build")
    last_from = max(i for i, ins in enumerate(instructions) if ins["instruction"] == "FROM")
    final = instructions[last_from:]
    users = [i["value"] for i in final if i["instruction"] == "USER"]
    assert users, "the final stage sets USER"
    assert users[-1].split(":")[0] not in {"root", "0"}
    assert users[-1].split(":")[0] == IMAGE_UID
    assert any(i["instruction"] == "HEALTHCHECK" for i in final)
    assert any(i["instruction"] == "COPY" and "--from=build" in i["value"] for i in final), (
        "the final stage copies the build stage"
    )
    runs = " ".join(i["value"] for i in instructions if i["instruction"] == "RUN")
    assert "collectstatic" in runs
    assert "uv sync --frozen --no-dev" in runs
    cmd = json.loads(parser.cmd) if parser.cmd.startswith("[") else parser.cmd.split()
    assert cmd[0] == "gunicorn"
    assert "deploy/gunicorn.conf.py" in cmd
    assert "healthcheck.py" in next(i["value"] for i in final if i["instruction"] == "HEALTHCHECK")


def test_dockerfile_copies_only_what_exists() -> None:
    for ins in _dockerfile().structure:
        if ins["instruction"] != "COPY" or "--from=" in ins["value"]:
            continue
        *sources, _dest = ins["value"].split()
        for source in sources:
            if source != ".":
                assert (ROOT / source).exists(), source
    ignored = (ROOT / ".dockerignore").read_text(encoding="utf-8").split()
    assert {".git", ".venv", ".env", "var"} <= set(ignored)


def test_image_placeholders_load_production_settings() -> None:
    """The collectstatic step's placeholder values satisfy production settings."""
    run = next(
        i["value"]
        for i in _dockerfile().structure
        if i["instruction"] == "RUN" and "collectstatic" in i["value"]
    )
    assignments = dict(re.findall(r"([A-Z_]+)=(\S+)", run.split("/app/.venv")[0]))
    assert set(assignments) >= REQUIRED
    assert len(assignments["SECRET_KEY"]) >= 50
    from cryptography.fernet import Fernet

    Fernet(assignments["ID_NUMBER_KEYS"].encode())


# --- systemd ---------------------------------------------------------------------------------------


def _unit(path: Path) -> configparser.ConfigParser:
    parser = configparser.ConfigParser(strict=False, interpolation=None)
    parser.optionxform = str  # type: ignore[assignment, method-assign]
    parser.read(path, encoding="utf-8")
    return parser


def test_systemd_units_have_what_they_need() -> None:
    names = {p.stem for p in UNITS}
    assert {"yibao-web", "yibao-worker", "yibao-beat"} <= names
    for path in UNITS:
        unit = _unit(path)
        service = unit["Service"]
        assert service["User"] == "yibao", path.name
        assert service["EnvironmentFile"] == "/etc/yibao/yibao.env", path.name
        assert service["ExecStart"].startswith("/opt/yibao/.venv/bin/"), path.name
        assert "DJANGO_ENV=production" in service["Environment"], path.name
        if path.stem != "yibao-migrate":
            assert unit["Install"]["WantedBy"] == "multi-user.target", path.name
            assert service["Restart"] in {"always", "on-failure"}, path.name


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="systemd is not installed")
def test_systemd_analyze_verify(tmp_path: Path) -> None:
    """``systemd-analyze verify`` in a scratch root holding the units, the system's own units and
    stand-ins for the executables they start; any message (an unknown key too) fails."""
    bin_dir = tmp_path / "opt" / "yibao" / ".venv" / "bin"
    bin_dir.mkdir(parents=True)
    for name in ("gunicorn", "celery", "python"):
        (bin_dir / name).write_text("#!/bin/sh\n")
        (bin_dir / name).chmod(0o755)
    (tmp_path / "bin").mkdir()
    shutil.copy("/bin/kill", tmp_path / "bin" / "kill")
    system_units = Path("/usr/lib/systemd/system")
    if system_units.is_dir():
        shutil.copytree(
            system_units, tmp_path / "usr" / "lib" / "systemd" / "system", symlinks=True
        )
    target = tmp_path / "etc" / "systemd" / "system"
    target.mkdir(parents=True)
    for path in UNITS:
        shutil.copy(path, target / path.name)
    result = subprocess.run(  # noqa: S603
        [  # noqa: S607 - found on PATH, like every other tool the suite runs
            "systemd-analyze",
            "verify",
            "--man=no",
            f"--root={tmp_path}",
            *(str(target / p.name) for p in UNITS),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stderr.strip() == "", result.stderr


# --- environment variables -------------------------------------------------------------------------


def _env_file(path: Path) -> dict[str, str]:
    values = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            key, _, value = line.partition("=")
            values[key] = value
    return values


def _k8s_variables() -> set[str]:
    names = set()
    for doc in _k8s_documents():
        if doc["kind"] in {"ConfigMap"}:
            names |= set(doc["data"])
        if doc["kind"] == "Secret":
            names |= set(doc["stringData"])
        for container in _containers(doc):
            names |= {e["name"] for e in container.get("env", [])}
    return names


def _compose_variables() -> set[str]:
    names = set()
    for name, service in _compose()["services"].items():
        if name not in {"postgres", "redis"}:
            names |= set(service.get("environment", {}))
    return names


def _systemd_variables() -> set[str]:
    names = set(_env_file(SYSTEMD / "yibao.env.example"))
    for path in UNITS:
        for assignment in _unit(path)["Service"].get("Environment", "").split():
            names.add(assignment.partition("=")[0])
    return names


@pytest.mark.parametrize(
    ("kind", "variables"),
    [
        ("kubernetes", _k8s_variables),
        ("compose", _compose_variables),
        ("systemd", _systemd_variables),
    ],
)
def test_every_variable_set_is_read_and_every_required_one_set(kind: str, variables: Any) -> None:
    names = variables()
    known = settings_variables()
    assert known >= REQUIRED, "the list of required variables is out of date"
    unknown = names - known - NOT_SETTINGS
    assert not unknown, f"{kind} sets variables nothing reads: {sorted(unknown)}"
    missing = REQUIRED - names
    assert not missing, f"{kind} does not set required variables: {sorted(missing)}"
    assert "DJANGO_ENV" in names


def test_compose_env_template_covers_what_compose_asks_for() -> None:
    text = (DEPLOY / "compose.yaml").read_text(encoding="utf-8")
    demanded = set(re.findall(r"\$\{([A-Z_]+):\?", text))
    assert demanded <= set(_env_file(DEPLOY / "env.example"))


def test_readme_documents_every_variable_the_manifests_set() -> None:
    operations = (ROOT / "docs" / "operations.md").read_text(encoding="utf-8")
    for name in (_k8s_variables() | _compose_variables() | _systemd_variables()) - {"PATH"}:
        assert f"`{name}`" in operations, name
