"""Configuration: declared once, read from the environment (CASEWORK_*, DATABASE_URL)."""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass, field, fields
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_INSTANCE_DIR = REPO_ROOT / "instance"


class ConfigError(Exception):
    """A configuration problem, reported to the operator as one actionable line."""


# Environment variables casework reads: name -> (attribute, description).
ENV_VARS: dict[str, tuple[str, str]] = {
    "DATABASE_URL": ("database_url", "SQLAlchemy URL; default sqlite:///instance/casework.db"),
    "CASEWORK_ENV": ("env", "development | test | production"),
    "CASEWORK_SECRET_KEY": ("secret_key", "session signing key (required in production)"),
    "CASEWORK_DATA_KEY": ("data_key", "key encrypting secrets at rest, e.g. TOTP (required in production; "
                                      "elsewhere derived from the secret key)"),
    "CASEWORK_INSTANCE_DIR": ("instance_dir", "folder for the SQLite database and documents"),
    "CASEWORK_DOCUMENTS_DIR": ("documents_dir", "folder for uploaded documents"),
    "CASEWORK_PROCESSES_DIR": ("processes_dir", "folder of BPMN/DMN files"),
    "CASEWORK_FORMS_DIR": ("forms_dir", "folder of JSON Schema forms"),
    "CASEWORK_SECURE_COOKIES": ("secure_cookies", "1 to send cookies over HTTPS only (default on in production)"),
    "CASEWORK_SESSION_IDLE_MINUTES": ("session_idle_minutes", "sign out after this much inactivity"),
    "CASEWORK_SESSION_MAX_HOURS": ("session_max_hours", "absolute session lifetime"),
    "CASEWORK_MAX_UPLOAD_MB": ("max_upload_mb", "largest accepted upload"),
    "CASEWORK_LOGIN_MAX_FAILURES": ("login_max_failures", "failed sign-ins before a temporary lock"),
    "CASEWORK_LOG_LEVEL": ("log_level", "DEBUG | INFO | WARNING | ERROR"),
    "CASEWORK_CLOSURE_DAYS": ("closure_days", "comma-separated ISO dates the council is closed"),
    "CASEWORK_PDS_BASE_URL": ("pds_base_url", "NHS PDS FHIR R4 base URL (default: the public PDS sandbox)"),
    "CASEWORK_SIGNIN_RATE_PER_MINUTE": ("signin_rate_per_minute", "sign-in attempts per client IP per minute"),
    "CASEWORK_API_RATE_PER_MINUTE": ("api_rate_per_minute", "API requests per client IP per minute (per process)"),
    "CASEWORK_TRUSTED_PROXIES": ("trusted_proxies", "number of reverse proxies setting X-Forwarded-For (default 0)"),
    "CASEWORK_OIDC_ISSUER": ("oidc_issuer", "OpenID Connect issuer URL (enables 'sign in with your council account')"),
    "CASEWORK_OIDC_CLIENT_ID": ("oidc_client_id", "OpenID Connect client id"),
    "CASEWORK_OIDC_CLIENT_SECRET": ("oidc_client_secret", "OpenID Connect client secret"),
    "CASEWORK_OIDC_USERNAME_CLAIM": ("oidc_username_claim", "ID token claim naming the user"),
    "CASEWORK_OIDC_GROUP_MAP": ("oidc_group_map", "'group=role:practitioner,team:mash;...'"),
}
ENVIRONMENTS = ("development", "test", "production")


@dataclass
class Settings:
    env: str = "development"
    database_url: str = ""
    secret_key: str = ""
    data_key: str = ""
    instance_dir: str = str(DEFAULT_INSTANCE_DIR)
    documents_dir: str = ""
    processes_dir: str = str(REPO_ROOT / "processes")
    forms_dir: str = str(REPO_ROOT / "forms")
    secure_cookies: bool | None = None
    session_idle_minutes: int = 30
    session_max_hours: int = 12
    max_upload_mb: int = 20
    login_max_failures: int = 5
    log_level: str = "INFO"
    closure_days: tuple[str, ...] = field(default_factory=tuple)
    pds_base_url: str = "https://sandbox.api.service.nhs.uk/personal-demographics/FHIR/R4"
    signin_rate_per_minute: int = 10
    api_rate_per_minute: int = 300
    trusted_proxies: int = 0
    oidc_issuer: str = ""
    oidc_client_id: str = ""
    oidc_client_secret: str = ""
    oidc_username_claim: str = "preferred_username"
    oidc_group_map: str = ""

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None, **overrides: object) -> Settings:
        environ = dict(os.environ if environ is None else environ)
        unknown = sorted(k for k in environ if k.startswith("CASEWORK_") and k not in ENV_VARS)
        if unknown:
            raise ConfigError(
                f"Unknown setting {unknown[0]}: known CASEWORK_* settings are "
                + ", ".join(k for k in ENV_VARS if k.startswith("CASEWORK_"))
            )
        values: dict[str, object] = {}
        types = {f.name: f.type for f in fields(cls)}
        for var, (attr, _) in ENV_VARS.items():
            if var in environ and environ[var] != "":
                values[attr] = _coerce(var, environ[var], str(types[attr]))
        values.update({k: v for k, v in overrides.items() if v is not None})
        settings = cls(**values)  # type: ignore[arg-type]
        settings._finish()
        return settings

    def _finish(self) -> None:
        if self.env not in ENVIRONMENTS:
            raise ConfigError(f"CASEWORK_ENV={self.env!r} is not one of {', '.join(ENVIRONMENTS)}")
        if self.log_level.upper() not in ("DEBUG", "INFO", "WARNING", "ERROR"):
            raise ConfigError(f"CASEWORK_LOG_LEVEL={self.log_level!r} is not DEBUG, INFO, WARNING or ERROR")
        if not self.database_url:
            self.database_url = "sqlite:///" + str(Path(self.instance_dir) / "casework.db")
        if self.database_url.startswith("postgres://"):
            self.database_url = "postgresql+psycopg://" + self.database_url[len("postgres://"):]
        elif self.database_url.startswith("postgresql://"):
            self.database_url = "postgresql+psycopg://" + self.database_url[len("postgresql://"):]
        if not self.database_url.startswith(("sqlite:", "postgresql+psycopg:")):
            raise ConfigError("DATABASE_URL must be sqlite:///PATH or postgresql://USER@HOST:PORT/DB")
        if not self.documents_dir:
            self.documents_dir = str(Path(self.instance_dir) / "documents")
        if self.secure_cookies is None:
            self.secure_cookies = self.env == "production"
        if self.env == "production":
            if len(self.secret_key) < 32:
                raise ConfigError(
                    "CASEWORK_SECRET_KEY must be set to a random string of at least 32 characters in "
                    "production (e.g. python -c 'import secrets; print(secrets.token_urlsafe(48))')"
                )
            if len(self.data_key) < 32 or self.data_key == self.secret_key:
                raise ConfigError(
                    "CASEWORK_DATA_KEY must be set in production to a random string of at least 32 characters, "
                    "different from CASEWORK_SECRET_KEY; it encrypts TOTP secrets (keep it outside the database "
                    "backups; e.g. python -c 'import secrets; print(secrets.token_urlsafe(48))')"
                )
        elif not self.secret_key:
            self.secret_key = _dev_secret_key(Path(self.instance_dir))
        for name in ("session_idle_minutes", "session_max_hours", "max_upload_mb", "login_max_failures",
                     "signin_rate_per_minute", "api_rate_per_minute"):
            if getattr(self, name) <= 0:
                raise ConfigError(f"{name} must be a positive number")
        if not 0 <= self.trusted_proxies <= 5:
            raise ConfigError("CASEWORK_TRUSTED_PROXIES must be a number from 0 to 5")
        self._check_oidc()

    def _check_oidc(self) -> None:
        parts = (self.oidc_issuer, self.oidc_client_id, self.oidc_client_secret)
        if any(parts) and not all(parts):
            raise ConfigError("Set CASEWORK_OIDC_ISSUER, CASEWORK_OIDC_CLIENT_ID and CASEWORK_OIDC_CLIENT_SECRET "
                              "together")
        if self.oidc_issuer:
            local = self.oidc_issuer.startswith(("http://127.0.0.1", "http://localhost"))
            if not self.oidc_issuer.startswith("https://") and not (local and self.env != "production"):
                raise ConfigError("CASEWORK_OIDC_ISSUER must be an https:// URL")
        from casework.auth.oidc import parse_group_map

        try:
            parse_group_map(self.oidc_group_map)
        except ValueError as exc:
            raise ConfigError(str(exc)) from None

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")


def _coerce(var: str, raw: str, type_name: str) -> object:
    try:
        if "bool" in type_name:
            if raw.lower() in ("1", "true", "yes", "on"):
                return True
            if raw.lower() in ("0", "false", "no", "off"):
                return False
            raise ValueError(raw)
        if type_name == "int":
            return int(raw)
        if "tuple" in type_name:
            return tuple(part.strip() for part in raw.split(",") if part.strip())
    except ValueError:
        raise ConfigError(f"{var}={raw!r} is not a valid {type_name.split(' ')[0]}") from None
    return raw


def _dev_secret_key(instance_dir: Path) -> str:
    """Outside production, keep a generated key in the instance folder so sessions survive restarts."""
    path = instance_dir / ".secret_key"
    try:
        if path.exists():
            return path.read_text().strip()
        instance_dir.mkdir(parents=True, exist_ok=True)
        key = secrets.token_urlsafe(48)
        path.write_text(key)
        path.chmod(0o600)
        return key
    except OSError:
        return secrets.token_urlsafe(48)
