"""`casework finance run/download` on a real database, and the finance demo step."""

from datetime import date

from click.testing import CliRunner
from sqlalchemy import select
from sqlalchemy.orm import Session

from casework.cli import main
from casework.db import make_engine
from casework.finance import demo
from casework.finance.models import Agreement, Provider
from tests.conftest import fresh_database_url
from tests.finance.factories import create_agreement, create_case, create_person


def _invoke(env, *args):
    return CliRunner().invoke(main, list(args), env=env, catch_exceptions=False)


def test_cli_run_writes_the_file_and_download_repeats_it(request, tmp_path_factory, tmp_path):
    processes = tmp_path / "processes"
    processes.mkdir()
    env = {"DATABASE_URL": fresh_database_url(request.config, tmp_path_factory, "fincli"),
           "CASEWORK_INSTANCE_DIR": str(tmp_path / "instance"), "CASEWORK_PROCESSES_DIR": str(processes)}
    assert _invoke(env, "init").exit_code == 0
    engine = make_engine(env["DATABASE_URL"])
    with Session(engine) as s:
        create_agreement(s, unit_cost_pence=1000, units_per_week="7", start_date=date(2026, 1, 5),
                         end_date=date(2026, 1, 18))
        s.commit()
    engine.dispose()

    out = tmp_path / "payments.csv"
    result = _invoke(env, "finance", "run", "--period-end", "2026-01-18", "--out", str(out))
    assert result.exit_code == 0, result.output
    assert "2 payment(s), total GBP 140.00" in result.output
    data = out.read_bytes()
    assert data.startswith(b"record_type,run_id,line_id,") and data.endswith(b"\r\n")
    assert data.decode("utf-8").splitlines()[-1].startswith("T,")

    run_id = data.decode().splitlines()[1].split(",")[1]
    repeated = _invoke(env, "finance", "run", "--period-end", "2026-01-18", "--out", str(tmp_path / "none.csv"))
    assert repeated.exit_code == 1, repeated.output  # not collected twice, and no empty run
    assert f"payment run {run_id} (period end 2026-01-18) already paid it" in repeated.output
    assert not (tmp_path / "none.csv").exists()
    earlier = _invoke(env, "finance", "run", "--period-end", "2026-01-04", "--out", str(tmp_path / "none.csv"))
    assert earlier.exit_code == 1 and "Nothing is due up to 2026-01-04" in earlier.output
    assert not (tmp_path / "none.csv").exists()
    assert _invoke(env, "finance", "download", str(int(run_id) + 1), "--out", str(tmp_path / "x.csv")
                   ).exit_code == 1  # the refused runs left no run behind
    again = tmp_path / "again.csv"
    downloaded = _invoke(env, "finance", "download", run_id, "--out", str(again))
    assert downloaded.exit_code == 0 and again.read_bytes() == data

    future = _invoke(env, "finance", "run", "--period-end", "2999-01-01", "--out", str(tmp_path / "f.csv"))
    assert future.exit_code == 1 and "in arrears" in future.output and "period_end" in future.output
    assert _invoke(env, "finance", "download", "9999", "--out", str(again)).exit_code == 1
    bad = _invoke(env, "finance", "run", "--period-end", "18/01/2026", "--out", str(out))
    assert bad.exit_code == 2


def test_demo_step_adds_providers_and_agreements_for_adults_cases(session):
    lines: list[str] = []
    people = [create_person(session) for _ in range(6)]
    for person in people:
        create_case(session, person=person)
    demo.run(session, 0, lines.append)
    assert "4 providers, 6 agreements" in lines[-1]
    made = session.scalars(select(Agreement).where(Agreement.person_id.in_([p.id for p in people]))).all()
    assert sorted(a.status for a in made) == ["authorised"] * 4 + ["ended", "requested"]
    assert {a.kind for a in made} == {"service", "direct_payment", "one_off"}
    demo.run(session, 0, lines.append)  # idempotent
    assert "already present" in lines[-1]
    assert len(session.scalars(select(Provider).where(Provider.reference.like("SUP-1%"))).all()) == 4


def test_demo_step_without_adults_only_adds_providers(session):
    lines: list[str] = []
    demo.run(session, 0, lines.append)
    assert lines == ["finance demo: 4 providers (no adults for agreements)"]
    assert session.scalar(select(Agreement.id).limit(1)) is None
