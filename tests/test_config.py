import pytest

from casework.config import ConfigError, Settings


def test_defaults_to_sqlite_in_instance_folder(tmp_path):
    s = Settings.from_env({"CASEWORK_INSTANCE_DIR": str(tmp_path)})
    assert s.database_url == f"sqlite:///{tmp_path}/casework.db"
    assert s.is_sqlite and s.secure_cookies is False
    assert len(s.secret_key) >= 32
    # the generated development key is kept, so sessions survive a restart
    assert Settings.from_env({"CASEWORK_INSTANCE_DIR": str(tmp_path)}).secret_key == s.secret_key


def test_postgres_url_is_normalised_to_psycopg3():
    s = Settings.from_env({"DATABASE_URL": "postgresql://postgres@127.0.0.1:5432/x"})
    assert s.database_url == "postgresql+psycopg://postgres@127.0.0.1:5432/x"


@pytest.mark.parametrize(
    ("environ", "message"),
    [
        ({"CASEWORK_DATABSE": "x"}, "Unknown setting CASEWORK_DATABSE"),
        ({"CASEWORK_ENV": "staging"}, "CASEWORK_ENV='staging' is not one of"),
        ({"CASEWORK_ENV": "production"}, "CASEWORK_SECRET_KEY must be set"),
        ({"CASEWORK_SESSION_IDLE_MINUTES": "soon"}, "is not a valid int"),
        ({"CASEWORK_SECURE_COOKIES": "maybe"}, "is not a valid bool"),
        ({"DATABASE_URL": "mysql://root@localhost/x"}, "DATABASE_URL must be"),
        ({"CASEWORK_MAX_UPLOAD_MB": "0"}, "must be a positive number"),
    ],
)
def test_bad_settings_give_one_actionable_line(environ, message):
    with pytest.raises(ConfigError) as info:
        Settings.from_env(environ)
    assert message in str(info.value)
    assert "\n" not in str(info.value)


def test_production_with_real_key_gets_secure_cookies():
    s = Settings.from_env({"CASEWORK_ENV": "production", "CASEWORK_SECRET_KEY": "k" * 40,
                           "CASEWORK_DATA_KEY": "d" * 40})
    assert s.secure_cookies is True
