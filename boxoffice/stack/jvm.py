"""The JVM side of the stack: Java, the Kafka and Debezium jars, and how to launch them.

Kafka and Debezium come straight from Maven Central, resolved by ``jvm/pom.xml`` (one
Maven profile per output directory) with the versions pinned in `Settings`. Jars land
under ``<tools>/jvm`` next to a private Maven repository, so a fresh machine needs only
``java`` and ``mvn`` and a second resolution of the same versions is a no-op.
"""

from __future__ import annotations

import functools
import hashlib
import shutil
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from boxoffice.errors import ComponentError
from boxoffice.stack.component import Progress
from boxoffice.stack.install import apt_install, exclusive, run_step
from contracts.settings import REPO_ROOT, Settings

POM = REPO_ROOT / "jvm" / "pom.xml"
MIN_JAVA = 17
MARKER = ".boxoffice-complete"
DEBEZIUM_PLUGIN = "debezium-connector-postgres"


@dataclass(frozen=True)
class JvmLayout:
    """Where the jars of one version set live under the tools directory."""

    root: Path
    kafka_version: str
    debezium_version: str

    @classmethod
    def of(cls, settings: Settings) -> JvmLayout:
        return cls(settings.tools / "jvm", settings.kafka_version, settings.debezium_version)

    @property
    def maven_repo(self) -> Path:
        return self.root / "m2"

    @property
    def kafka_libs(self) -> Path:
        """Broker, tools and the Connect runtime: the distribution's ``libs/``."""
        return self.root / f"kafka-{self.kafka_version}" / "libs"

    @property
    def plugin_path(self) -> Path:
        """Connect's ``plugin.path``: one sub-directory per plugin, isolated class loader."""
        return self.root / f"debezium-{self.debezium_version}-kafka-{self.kafka_version}"

    @property
    def debezium_dir(self) -> Path:
        return self.plugin_path / DEBEZIUM_PLUGIN

    def classpath(self) -> str:
        """The Kafka lib directory as a class-path wildcard (short ``ps`` lines and errors)."""
        if not any(self.kafka_libs.glob("*.jar")):
            raise ComponentError(
                "kafka",
                f"no jars in {self.kafka_libs}; run `boxoffice stack install kafka`",
            )
        return f"{self.kafka_libs}/*"


def java_binary(component: str, progress: Progress) -> str:
    """The path of a Java 17+ runtime, installing Debian's headless JRE if none exists."""
    java = shutil.which("java")
    if java is None:
        progress(f"{component}: installing openjdk-17-jre-headless from Debian packages")
        apt_install(["openjdk-17-jre-headless"], component=component)
        java = shutil.which("java")
        if java is None:
            raise ComponentError(component, "java is still missing after installing the JRE")
    version = _java_major(java)
    if version < MIN_JAVA:
        raise ComponentError(
            component,
            f"{java} is Java {version}; Kafka {MIN_JAVA}+ is required: "
            f"apt-get install openjdk-17-jre-headless and put it first on PATH",
        )
    return java


@functools.lru_cache(maxsize=4)
def _java_major(java: str) -> int:
    result = subprocess.run(
        [java, "-XshowSettings:properties", "-version"], capture_output=True, text=True
    )
    for line in result.stderr.splitlines():
        if "java.specification.version" in line:
            spec = line.split("=", 1)[1].strip()
            return int(spec.split(".")[1] if spec.startswith("1.") else spec)
    return 0


def _maven_binary(component: str, progress: Progress) -> str:
    mvn = shutil.which("mvn")
    if mvn is None:
        progress(f"{component}: installing maven from Debian packages")
        apt_install(["maven"], component=component)
        mvn = shutil.which("mvn")
        if mvn is None:
            raise ComponentError(component, "mvn is still missing after installing maven")
    return mvn


def ensure_jars(settings: Settings, *, component: str, progress: Progress) -> JvmLayout:
    """Resolve the pinned Kafka and Debezium jars unless a marker says they are present."""
    layout = JvmLayout.of(settings)
    java_binary(component, progress)
    wanted = {
        "kafka": (
            layout.kafka_libs,
            {"kafka.version": layout.kafka_version},
            f"Kafka {layout.kafka_version} (broker, tools, Connect runtime)",
        ),
        "debezium": (
            layout.debezium_dir,
            {"debezium.version": layout.debezium_version},
            f"Debezium {layout.debezium_version} Postgres connector",
        ),
    }
    pom = hashlib.sha256(POM.read_bytes()).hexdigest()[:12]  # a new dependency re-resolves
    for profile, (target, properties, what) in wanted.items():
        stamp = " ".join(f"{k}={v}" for k, v in sorted(properties.items())) + f" pom={pom}"
        marker = target / MARKER
        if _marked(marker, stamp):
            continue
        with exclusive(layout.root / ".install.lock"):
            if _marked(marker, stamp):  # another process resolved it while we waited
                continue
            mvn = _maven_binary(component, progress)
            progress(f"{component}: resolving {what} from Maven Central into {target}")
            started = time.monotonic()
            _resolve(mvn, layout, profile, properties, target, component=component,
                     log_file=settings.logs_dir / "jvm-install.log")
            marker.write_text(stamp + "\n")
            jars = len(list(target.glob("*.jar")))
            progress(f"{component}: {jars} jars in {time.monotonic() - started:.0f} s")
    return layout


def _marked(marker: Path, stamp: str) -> bool:
    return marker.exists() and marker.read_text().strip() == stamp


def _resolve(mvn: str, layout: JvmLayout, profile: str, properties: dict[str, str],
             target: Path, *, component: str, log_file: Path) -> None:
    """Copy one profile's runtime dependencies into a fresh directory, then swap it in."""
    staging = target.with_name(target.name + ".partial")
    shutil.rmtree(staging, ignore_errors=True)
    staging.parent.mkdir(parents=True, exist_ok=True)
    argv = [
        mvn, "-B", "-q", "-f", str(POM), f"-P{profile}",
        f"-Dmaven.repo.local={layout.maven_repo}",
        f"-DoutputDirectory={staging}",
        "-Dstyle.color=never",
        *(f"-D{key}={value}" for key, value in properties.items()),
        "dependency:copy-dependencies",
    ]
    run_step(argv, component=component, what=f"resolving the {profile} jars with Maven",
             log_file=log_file, cwd=POM.parent)
    shutil.rmtree(target, ignore_errors=True)
    staging.rename(target)


def java_argv(*, java: str, heap: str, classpath: str, main_class: str,
              log4j_config: Path, args: list[str],
              properties: dict[str, str] | None = None) -> list[str]:
    """A foreground JVM command line like Kafka's own scripts build, minus the shell;
    `properties` become -D system properties."""
    return [
        java,
        f"-Xms{heap}",
        f"-Xmx{heap}",
        "-XX:+UseG1GC",
        "-XX:MaxGCPauseMillis=20",
        "-XX:InitiatingHeapOccupancyPercent=35",
        "-XX:+ExplicitGCInvokesConcurrent",
        "-XX:+ExitOnOutOfMemoryError",
        "-Djava.awt.headless=true",
        f"-Dlog4j2.configurationFile={log4j_config}",
        *(f"-D{name}={value}" for name, value in (properties or {}).items()),
        "-cp",
        classpath,
        main_class,
        *args,
    ]


LOG_PATTERN = r"[%d] %p %replace{%m}{with\.salt\.[^ =,]+}{with.salt.***} (%c)%n"
LOG4J2_XML = """<?xml version="1.0" encoding="UTF-8"?>
<!-- written by boxoffice: everything to stdout, which the supervisor sends to the log.
     Debezium lists a task's configuration at start, masking only keys named like a
     password. Connector configs stored before personal columns were excluded carry the
     person-hash salt in a key (column.mask.hash.*.with.salt.<salt>); until the stored
     config is replaced, every message has it masked. -->
<Configuration status="WARN">
  <Appenders>
    <Console name="stdout" target="SYSTEM_OUT">
      <PatternLayout pattern="{pattern}"/>
    </Console>
  </Appenders>
  <Loggers>
    <Root level="INFO"><AppenderRef ref="stdout"/></Root>
{quiet}
  </Loggers>
</Configuration>
"""


def write_log4j2_config(path: Path, *, quiet: tuple[str, ...] = ()) -> Path:
    """A log4j2 configuration printing to stdout, with chatty loggers lowered to WARN."""
    lines = "\n".join(f'    <Logger name="{name}" level="WARN"/>' for name in quiet)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(LOG4J2_XML.format(pattern=LOG_PATTERN, quiet=lines))
    return path


def write_properties(path: Path, values: dict[str, object]) -> Path:
    """A Java .properties file, one key per line in the given order."""
    path.parent.mkdir(parents=True, exist_ok=True)
    body = "".join(f"{key}={_property(value)}\n" for key, value in values.items())
    path.write_text("# written by boxoffice; edits are overwritten on every start\n" + body)
    return path


def _property(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value).replace("\\", "\\\\")
