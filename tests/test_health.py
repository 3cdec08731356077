def test_healthz_reports_database(client):
    response = client.get("/healthz")
    assert response.status_code == 200 and response.json == {"status": "ok", "database": "ok"}


def test_readyz_knows_the_schema_is_at_head(client):
    response = client.get("/readyz")
    assert response.status_code == 200 and response.json["status"] == "ready"


def test_readyz_reports_an_unmigrated_database(tmp_path):
    from casework.app import create_app
    from casework.config import Settings

    app = create_app(Settings.from_env({}, env="test", instance_dir=str(tmp_path),
                                       database_url=f"sqlite:///{tmp_path}/empty.db"))
    response = app.test_client().get("/readyz")
    assert response.status_code == 503 and "run casework init" in response.json["reason"]


def test_unexpected_error_shows_no_stack_trace(app, client):
    from casework.auth.access import public

    @public
    def boom():
        raise RuntimeError("secret internals")

    app.add_url_rule("/boom-test", "boom_test", boom)
    response = client.get("/boom-test", headers={"Accept": "text/html"})
    body = response.get_data(as_text=True)
    assert response.status_code == 500
    assert "secret internals" not in body and "Traceback" not in body
    assert "Sorry, there is a problem with the service" in body
